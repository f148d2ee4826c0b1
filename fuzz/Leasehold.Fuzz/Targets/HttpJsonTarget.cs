using Leasehold.Server.Wire;
using System.Text;
using System.Text.Json;
using CsCheck;
using Leasehold.Core;
using Leasehold.Fuzz.Generators;
using Leasehold.Fuzz.Harness;
using Leasehold.Protocol;
using Leasehold.Server;
using Leasehold.Server.Http;
using Microsoft.AspNetCore.Http;

namespace Leasehold.Fuzz.Targets;

/// <summary>
/// HTTP JSON bodies in process: the routes' own reading (<see cref="RequestReading"/> with the source-generated
/// <see cref="ProtocolJsonContext"/>), their checks into engine commands (<c>LeaseEndpoints.TryBuild</c>,
/// <c>RequestReading.TryMilliseconds</c>, the attribute parser), the command applied to a real engine,
/// and the answer serialized. Every refusal must be a 4xx problem; nothing may throw.
/// </summary>
public static class HttpJsonTarget
{
    public const string Name = "http-json";

    public static FuzzTarget<JsonRequest> Create() => new(
        Name,
        "JSON bodies of POST /v1/leases, /v1/leases/{id}/renew, /v1/sessions and PUT /v1/resources/{path}, read, checked into engine commands and applied",
        Inputs,
        () => new Checker(),
        r => r.ToString());

    public static readonly Gen<JsonRequest> Inputs = Gen.Frequency(
        (6, JsonText.Damaged(RequestBodies.Acquire).Select(b => new JsonRequest(JsonRoute.Acquire, b))),
        (1, JsonText.Damaged(RequestBodies.Renew).Select(b => new JsonRequest(JsonRoute.Renew, b))),
        (1, JsonText.Damaged(RequestBodies.Session).Select(b => new JsonRequest(JsonRoute.Session, b))),
        (2, JsonText.Damaged(RequestBodies.Declare).Select(b => new JsonRequest(JsonRoute.Declare, b))));

    /// <summary>One engine per worker, replaced now and then so that state (and time per input) stays bounded.</summary>
    internal sealed class Checker : IInputChecker<JsonRequest>
    {
        private const int InputsPerEngine = 500;
        private static readonly ResourcePath Pool = EngineFixture.Path("/pool");
        private LockEngine _engine = EngineFixture.Create(Pool, EngineFixture.T0);
        private long _now = EngineFixture.T0;
        private int _used;

        public void Check(JsonRequest input)
        {
            if (++_used % InputsPerEngine == 0)
            {
                _engine = EngineFixture.Create(Pool, _now);
            }
            _now += 250;
            _engine.Advance(_now);
            var context = new DefaultHttpContext();
            context.Request.Body = new MemoryStream(input.Body);
            context.Request.ContentLength = input.Body.Length;
            switch (input.Route)
            {
                case JsonRoute.Acquire:
                    Acquire(context.Request);
                    break;
                case JsonRoute.Renew:
                    Renew(context.Request);
                    break;
                case JsonRoute.Session:
                    Session(context.Request);
                    break;
                default:
                    Declare(context.Request);
                    break;
            }
            _engine.DiscardOutcomes();
            _ = _engine.TakeChoices();
        }

        private void Acquire(HttpRequest request)
        {
            var (body, problem) = RequestReading.ReadJsonAsync(request, ProtocolJsonContext.Default.AcquireRequest, null).GetAwaiter().GetResult();
            if (problem is not null)
            {
                ClientErrors.Require(problem, "reading an acquire body");
                return;
            }
            if (!LeaseEndpoints.TryBuild(body!, null, out var spec, out _, out problem))
            {
                ClientErrors.Require(problem, "checking an acquire body");
                return;
            }
            var result = _engine.Acquire(spec.Command(_now, Tokens.Hash(spec.Token)));
            ClientErrors.Require(result.Error, result.Detail, "the engine's answer to an acquire");
            if (result.Lease is { } lease)
            {
                // The grant as the route writes it, the new holder's token included.
                _ = JsonSerializer.Serialize(Dtos.ToDto(lease, _engine, Tokens.New()), ProtocolJsonContext.Default.LeaseDto);
            }
        }

        private void Renew(HttpRequest request)
        {
            var (body, problem) = RequestReading.ReadJsonAsync(request, ProtocolJsonContext.Default.RenewRequest, new RenewRequest()).GetAwaiter().GetResult();
            if (problem is not null)
            {
                ClientErrors.Require(problem, "reading a renew body");
                return;
            }
            if (body!.Ttl is <= 0)
            {
                return;
            }
            if (!RequestReading.TryMilliseconds(body.Ttl, "ttl", 366 * 86400, out var ttl, out problem))
            {
                ClientErrors.Require(problem, "checking a renew body");
                return;
            }
            // A lease that exists, with a token that does not match, and a free path's fresh lease with its own token.
            var token = Tokens.New();
            var granted = _engine.Acquire(new AcquireLease { Now = _now, Paths = [EngineFixture.Path($"/renew/{_used}")], Token = Tokens.Hash(token), TtlMs = 1000 });
            if (granted.Lease is null)
            {
                // An earlier input holds "/" or "/renew": there is no lease to renew this time.
                return;
            }
            var renewed = _engine.Renew(new RenewLease { Now = _now, LeaseId = granted.Lease!.Id, Token = Tokens.Hash(token), TtlMs = ttl });
            ClientErrors.Require(renewed.Error, renewed.Detail, "the engine's answer to a renew");
            _ = JsonSerializer.Serialize(Dtos.ToDto(renewed.Value!, _engine), ProtocolJsonContext.Default.LeaseDto);
            _engine.Release(new ReleaseLease { Now = _now, LeaseId = granted.Lease.Id, Token = Tokens.Hash(token) });
        }

        private void Session(HttpRequest request)
        {
            var (body, problem) = RequestReading.ReadJsonAsync(request, ProtocolJsonContext.Default.SessionRequest, new SessionRequest()).GetAwaiter().GetResult();
            if (problem is not null)
            {
                ClientErrors.Require(problem, "reading a session body");
                return;
            }
            if (!RequestReading.TryMilliseconds(body!.Ttl ?? 30, "ttl", 86400, out var ttl, out problem))
            {
                ClientErrors.Require(problem, "checking a session body");
                return;
            }
            var token = Tokens.New();
            var opened = _engine.Open(new OpenSession { Now = _now, TtlMs = ttl, Owner = body.Owner, Token = Tokens.Hash(token) });
            ClientErrors.Require(opened.Error, opened.Detail, "the engine's answer to a session");
            if (opened.Value is { } session)
            {
                _ = JsonSerializer.Serialize(Dtos.ToDto(session, token), ProtocolJsonContext.Default.SessionDto);
            }
        }

        private void Declare(HttpRequest request)
        {
            var (body, problem) = RequestReading.ReadTextBodyAsync(request).GetAwaiter().GetResult();
            if (problem is not null)
            {
                ClientErrors.Require(problem, "reading a declare body");
                return;
            }
            var attributes = Encoding.UTF8.GetString(body!);
            if (!Core.Pools.DeclaredResource.TryParseAttributes(attributes, out _, out _))
            {
                return;
            }
            var declared = _engine.Declare(new DeclareResource { Now = _now, Path = EngineFixture.Path($"/pool/d{_used % 7}"), Attributes = attributes });
            ClientErrors.Require(declared.Error, declared.Detail, "the engine's answer to a declare");
            if (declared.Value is { } resource)
            {
                _ = JsonSerializer.Serialize(new DeclaredResourceDto { Path = resource.Path.Value, Attributes = resource.Attributes }, ProtocolJsonContext.Default.DeclaredResourceDto);
            }
        }

        public void Dispose()
        {
        }
    }
}
