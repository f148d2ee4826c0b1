using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;

namespace Leasehold.Server.Security;

/// <summary>
/// Registers authentication (API keys, JWT bearer tokens) and the prefix rules with ASP.NET Core's
/// authentication and authorization services, and applies protected mode.
/// </summary>
public static class SecuritySetup
{
    /// <summary>The scheme every request is authenticated with: it forwards to the one its credentials call for.</summary>
    public const string Scheme = "Leasehold";

    /// <summary>
    /// Adds the services; returns whether security is on (some way to authenticate is configured). Throws
    /// <see cref="InvalidDataException"/> with a one-line reason for a setting that cannot work.
    /// </summary>
    public static bool AddLeaseholdSecurity(this WebApplicationBuilder builder, System.Net.IPAddress? idServerAddress)
    {
        var configuration = builder.Configuration;
        var section = configuration.GetSection(SecurityOptions.Section);
        var options = section.Get<SecurityOptions>() ?? new SecurityOptions();
        if (options.KeysFile is { Length: > 0 } keysFile)
        {
            AddKeysFile(configuration, keysFile);
            options = section.Get<SecurityOptions>() ?? options;
        }
        Validate(options);
        var clientCertificates = configuration.GetSection(Tls.TlsOptions.Section).Get<Tls.TlsOptions>()?.ClientCaFile is { Length: > 0 };
        var enabled = options.ApiKeys.Count > 0 || options.KeysFile is { Length: > 0 } || options.Jwt.Configured || clientCertificates;
        ProtectedMode.Check(configuration, enabled, options.Open, idServerAddress);

        builder.Services.Configure<SecurityOptions>(section);
        builder.Services.AddSingleton(sp => new SecurityState(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<SecurityOptions>>(), enabled, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationHandler, RightHandler>();
        builder.Services.AddAuthorization();
        if (!enabled)
        {
            // Nobody authenticates: without an authentication scheme the framework adds no authentication middleware,
            // which would otherwise run on every request for nothing (docs/performance.md, the HTTP path).
            return false;
        }
        var jwt = options.Jwt;
        var authentication = builder.Services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "API key, bearer token or client certificate", policy => policy.ForwardDefaultSelector = context =>
                jwt.Configured && ApiKeyHandler.IsOtherBearer(context.Request) ? JwtBearerDefaults.AuthenticationScheme
                // Credentials in a header win over a certificate, so one TLS client can act for several principals.
                : clientCertificates && context.Connection.ClientCertificate is not null && ApiKeyHandler.KeyOf(context.Request, out _) is null ? ClientCertificates.Scheme
                : ApiKeyHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyHandler>(ApiKeyHandler.SchemeName, null)
            .AddLeaseholdClientCertificates(configuration);
        if (jwt.Configured)
        {
            var signingKey = jwt.SigningKeyFile is { Length: > 0 } file ? ReadSigningKey(file) : null;
            authentication.AddJwtBearer(bearer =>
            {
                bearer.MapInboundClaims = false;
                bearer.Authority = jwt.Authority;
                bearer.RequireHttpsMetadata = !jwt.AllowHttpAuthority;
                bearer.Events = new JwtBearerEvents
                {
                    // A token that names nobody would act as an anonymous caller: refuse it instead.
                    OnTokenValidated = context =>
                    {
                        if (Caller.NameOf(context.Principal) is null)
                        {
                            context.Fail($"the bearer token has no '{jwt.NameClaim}' claim to name the principal");
                        }
                        return Task.CompletedTask;
                    },
                };
                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    NameClaimType = jwt.NameClaim,
                    RoleClaimType = jwt.RoleClaim,
                    ValidateAudience = jwt.Audience is not null,
                    ValidAudience = jwt.Audience,
                    // With an Authority the provider's metadata names the issuer to expect; otherwise only a configured one is checked.
                    ValidateIssuer = jwt.Issuer is not null || jwt.Authority is not null,
                    ValidIssuer = jwt.Issuer,
                    IssuerSigningKey = signingKey,
                    ValidateIssuerSigningKey = true,
                    RequireExpirationTime = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
            });
        }
        return enabled;
    }

    private static void Validate(SecurityOptions options)
    {
        foreach (var (id, key) in options.ApiKeys)
        {
            var where = $"{SecurityOptions.Section}:ApiKeys:{id}";
            if (!ApiKeys.IsValidId(id))
            {
                throw new InvalidDataException($"{where}: a key id is 1 to 64 letters, digits, '-' or '.'");
            }
            if (!ApiKeys.IsValidHash(key.Hash))
            {
                // A key pasted where its hash belongs would otherwise sit in the settings in clear.
                throw new InvalidDataException($"{where}:Hash is not sha256: and 64 hex digits (make one with: leasehold admin keys create)");
            }
            if (string.IsNullOrWhiteSpace(key.Principal))
            {
                throw new InvalidDataException($"{where}:Principal is required");
            }
        }
        if (!string.IsNullOrEmpty(options.Jwt.Authority) && !string.IsNullOrEmpty(options.Jwt.SigningKeyFile))
        {
            throw new InvalidDataException($"{SecurityOptions.Section}:Jwt: give Authority or SigningKeyFile, not both");
        }
        AccessRules.Parse(options);
    }

    private static SecurityKey ReadSigningKey(string file)
    {
        string pem;
        try
        {
            pem = File.ReadAllText(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{SecurityOptions.Section}:Jwt:SigningKeyFile {file}: {ex.Message}", ex);
        }
        try
        {
            if (TryEc(pem) is { } ec)
            {
                return new ECDsaSecurityKey(ec);
            }
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return new RsaSecurityKey(rsa);
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new InvalidDataException($"{SecurityOptions.Section}:Jwt:SigningKeyFile {file} holds no PEM RSA or EC public key", ex);
        }
    }

    private static ECDsa? TryEc(string pem)
    {
        try
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return ec;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The keys file joins the settings, re-read when it changes; it must exist when named.</summary>
    private static void AddKeysFile(ConfigurationManager configuration, string keysFile)
    {
        var path = Path.GetFullPath(keysFile);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{SecurityOptions.Section}:KeysFile {path} does not exist (make it with: leasehold admin keys create --file {keysFile})");
        }
        configuration.AddJsonFile(path, optional: false, reloadOnChange: true);
    }
}
