using System.Buffers;
using System.Buffers.Binary;
using Leasehold.Core;
using Leasehold.Core.Pools;

namespace Leasehold.Storage;

/// <summary>
/// A snapshot file: magic, version, the index of the last command it includes, the engine state, and a
/// CRC-32C of everything before it. Field order is the on-disk format; see docs/storage.md.
/// </summary>
public static class SnapshotCodec
{
    private const int HeaderSize = 24;

    /// <summary>The whole snapshot file's bytes for <paramref name="state"/> as of command <paramref name="index"/>.</summary>
    public static ArrayBufferWriter<byte> Encode(long index, EngineState state)
    {
        var buffer = new ArrayBufferWriter<byte>(1 << 16);
        WriteBody(buffer, index, state);
        var crc = Crc32C.Compute(buffer.WrittenSpan);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.GetSpan(4), crc);
        buffer.Advance(4);
        return buffer;
    }

    /// <summary>
    /// Writes the same bytes as <see cref="Encode"/> to <paramref name="stream"/> through one pooled buffer, so that
    /// a large state costs no buffer of its own size (nor the garbage of growing one). Returns the bytes written.
    /// </summary>
    /// <param name="stream">Where the bytes go, 1 MiB at a time.</param>
    /// <param name="index">The index of the last command the state includes.</param>
    /// <param name="state">The state.</param>
    /// <param name="afterChunk">Called after each chunk is written (e.g. to make it durable), or null.</param>
    public static long EncodeTo(Stream stream, long index, EngineState state, Action? afterChunk = null)
    {
        using var writer = new ChecksummedWriter(stream, afterChunk);
        WriteBody(writer, index, state);
        return writer.Finish();
    }

    private static void WriteBody(IBufferWriter<byte> buffer, long index, EngineState state)
    {
        buffer.Write(LogFormat.SnapshotMagic);
        BinaryOut.Int32(buffer, LogFormat.SnapshotVersion);
        BinaryOut.Int32(buffer, 0);
        BinaryOut.Int64(buffer, index);
        BinaryOut.Int64(buffer, state.LastLeaseId);
        BinaryOut.Int64(buffer, state.LastSessionId);
        BinaryOut.Int64(buffer, state.LastWaiterId);
        BinaryOut.Int64(buffer, state.LastFence);
        BinaryOut.Int32(buffer, state.Sessions.Count);
        foreach (var s in state.Sessions)
        {
            BinaryOut.Int64(buffer, s.Id);
            BinaryOut.UInt128(buffer, s.Token);
            BinaryOut.String(buffer, s.Owner);
            BinaryOut.Int64(buffer, s.TtlMs);
            BinaryOut.Int64(buffer, s.ExpiresAt);
            BinaryOut.String(buffer, s.Principal);
        }
        BinaryOut.Int32(buffer, state.Leases.Count);
        foreach (var l in state.Leases)
        {
            BinaryOut.Int64(buffer, l.Id);
            BinaryOut.UInt128(buffer, l.Token);
            BinaryOut.Int64(buffer, l.Fence);
            WriteClaim(buffer, l);
            BinaryOut.Int64(buffer, l.AcquiredAt);
            BinaryOut.Int64(buffer, l.WaitedMs);
            BinaryOut.Int64(buffer, l.ExpiresAt);
        }
        BinaryOut.Int32(buffer, state.Waiters.Count);
        foreach (var q in state.Waiters)
        {
            BinaryOut.Int64(buffer, q.Id);
            BinaryOut.UInt128(buffer, q.Token);
            WriteClaim(buffer, q);
            BinaryOut.Int64(buffer, q.EnqueuedAt);
            BinaryOut.Int64(buffer, q.Deadline);
        }
        BinaryOut.Int64(buffer, state.LastReleaseSeq);
        var resources = state.Resources ?? [];
        BinaryOut.Int32(buffer, resources.Count);
        foreach (var resource in resources)
        {
            BinaryOut.String(buffer, resource.Path.Value);
            BinaryOut.String(buffer, resource.AttributesJson);
            BinaryOut.Int64(buffer, resource.ReleasedSeq);
        }
        var history = state.History ?? [];
        BinaryOut.Int32(buffer, history.Count);
        foreach (var entry in history)
        {
            BinaryOut.Int64(buffer, entry.LeaseId);
            BinaryOut.Int64(buffer, entry.Fence);
            BinaryOut.String(buffer, entry.Owner);
            WritePaths(buffer, entry.Paths);
            BinaryOut.Int32(buffer, entry.Requirements?.Length ?? -1);
            foreach (var text in entry.Requirements ?? [])
            {
                BinaryOut.String(buffer, text);
            }
            BinaryOut.Int64(buffer, entry.AcquiredAt);
            BinaryOut.Int64(buffer, entry.QueuedMs);
            BinaryOut.Int64(buffer, entry.EndedAt);
            BinaryOut.Byte(buffer, (byte)entry.Reason);
            BinaryOut.String(buffer, entry.Principal);
            BinaryOut.String(buffer, entry.EndedBy);
        }
        var drains = state.Drains ?? [];
        BinaryOut.Int32(buffer, drains.Count);
        foreach (var drain in drains)
        {
            BinaryOut.String(buffer, drain.Path.Value);
            BinaryOut.String(buffer, drain.Actor);
            BinaryOut.Int64(buffer, drain.Since);
        }
        BinaryOut.Int64(buffer, state.Revision);
    }

    /// <summary>Hands a stream what is written in chunks of a pooled buffer, and keeps the CRC-32C of all of it.</summary>
    private sealed class ChecksummedWriter(Stream stream, Action? afterChunk) : IBufferWriter<byte>, IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        private int _length;
        private uint _crc = ~0u;
        private long _total;

        public void Advance(int count) => _length += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return _buffer.AsMemory(_length);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Reserve(sizeHint);
            return _buffer.AsSpan(_length);
        }

        /// <summary>Writes what is left and the checksum after it; returns the bytes written in all.</summary>
        public long Finish()
        {
            Flush();
            var crc = new byte[4];
            BinaryPrimitives.WriteUInt32LittleEndian(crc, ~_crc);
            stream.Write(crc);
            return _total + 4;
        }

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }

        private void Reserve(int sizeHint)
        {
            var needed = Math.Max(sizeHint, 1);
            if (_buffer.Length - _length >= needed)
            {
                return;
            }
            Flush();
            if (_buffer.Length < needed)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(needed);
            }
        }

        private void Flush()
        {
            var chunk = _buffer.AsSpan(0, _length);
            _crc = Crc32C.Append(_crc, chunk);
            stream.Write(chunk);
            _total += _length;
            _length = 0;
            afterChunk?.Invoke();
        }
    }

    private static void WritePaths(IBufferWriter<byte> w, ResourcePath[] paths)
    {
        BinaryOut.Int32(w, paths.Length);
        foreach (var path in paths)
        {
            BinaryOut.String(w, path.Value);
        }
    }

    private static void WriteClaim(IBufferWriter<byte> w, Claim claim)
    {
        WritePaths(w, claim.Paths);
        BinaryOut.Byte(w, (byte)claim.Mode);
        BinaryOut.Int32(w, claim.Limit);
        BinaryOut.Bool(w, claim.LockParents);
        BinaryOut.Bool(w, claim.LockChildren);
        BinaryOut.String(w, claim.Owner);
        BinaryOut.Int64(w, claim.SessionId);
        BinaryOut.Int64(w, claim.TtlMs);
        BinaryOut.Int32(w, claim.Groups?.Length ?? -1);
        foreach (var group in claim.Groups ?? [])
        {
            BinaryOut.String(w, group.Group.Pool.Value);
            BinaryOut.String(w, group.Group.Require);
            BinaryOut.Int32(w, group.Group.Count);
            WritePaths(w, group.Chosen);
        }
        BinaryOut.String(w, claim.Principal);
    }

    /// <summary>Reads and verifies a snapshot; any damage throws <see cref="CorruptDataException"/> naming the file.</summary>
    public static (long Index, EngineState State) Read(string file, ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize + 4 || !data[..8].SequenceEqual(LogFormat.SnapshotMagic))
        {
            throw new CorruptDataException(file, 0, "not a Leasehold snapshot (bad magic or too short)");
        }
        var version = BinaryPrimitives.ReadInt32LittleEndian(data[8..]);
        if (version is < 1 or > LogFormat.SnapshotVersion)
        {
            throw new CorruptDataException(file, 8, $"snapshot format version {version}; this server reads versions 1 to {LogFormat.SnapshotVersion}");
        }
        var body = data[..^4];
        if (Crc32C.Compute(body) != BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]))
        {
            throw new CorruptDataException(file, data.Length - 4, "the snapshot's checksum does not match its contents");
        }
        try
        {
            var r = new BinaryIn(body[16..]);
            var index = r.Int64();
            var lastLease = r.Int64();
            var lastSession = r.Int64();
            var lastWaiter = r.Int64();
            var lastFence = r.Int64();
            var sessions = new List<Session>();
            for (var n = Count(ref r); n > 0; n--)
            {
                sessions.Add(new Session
                {
                    Id = r.Int64(), Token = ClearTokens.Hash(r.UInt128(), version), Owner = r.String(), TtlMs = r.Int64(), ExpiresAt = r.Int64(),
                    Principal = version >= LogFormat.FirstSnapshotVersionWithPrincipals ? r.String() : null,
                });
            }
            var leases = new List<Lease>();
            for (var n = Count(ref r); n > 0; n--)
            {
                var id = r.Int64();
                var token = ClearTokens.Hash(r.UInt128(), version);
                var fence = r.Int64();
                var c = ReadClaim(ref r, version);
                leases.Add(new Lease
                {
                    Id = id, Token = token, Fence = fence, Paths = c.Paths, Mode = c.Mode, Limit = c.Limit,
                    LockParents = c.LockParents, LockChildren = c.LockChildren, Owner = c.Owner, SessionId = c.SessionId,
                    TtlMs = c.TtlMs, Groups = c.Groups, Principal = c.Principal, AcquiredAt = r.Int64(), WaitedMs = r.Int64(), ExpiresAt = r.Int64(),
                });
            }
            var waiters = new List<Waiter>();
            for (var n = Count(ref r); n > 0; n--)
            {
                var id = r.Int64();
                var token = ClearTokens.Hash(r.UInt128(), version);
                var c = ReadClaim(ref r, version);
                waiters.Add(new Waiter
                {
                    Id = id, Token = token, Paths = c.Paths, Mode = c.Mode, Limit = c.Limit,
                    LockParents = c.LockParents, LockChildren = c.LockChildren, Owner = c.Owner, SessionId = c.SessionId,
                    TtlMs = c.TtlMs, Groups = c.Groups, Principal = c.Principal, EnqueuedAt = r.Int64(), Deadline = r.Int64(),
                });
            }
            long lastRelease = 0;
            var resources = new List<DeclaredResource>();
            var history = new List<HistoryEntry>();
            if (version >= 2)
            {
                lastRelease = r.Int64();
                for (var n = Count(ref r); n > 0; n--)
                {
                    var path = Codec.Path(r.String());
                    var json = r.String() ?? "{}";
                    if (!DeclaredResource.TryParseAttributes(json, out var attributes, out var error))
                    {
                        throw new FormatException($"resource {path}: {error}");
                    }
                    resources.Add(new DeclaredResource { Path = path, AttributesJson = json, Attributes = attributes, ReleasedSeq = r.Int64() });
                }
                for (var n = Count(ref r); n > 0; n--)
                {
                    var leaseId = r.Int64();
                    var fence = r.Int64();
                    var owner = r.String();
                    var paths = ReadPaths(ref r);
                    var requirementCount = OptionalCount(ref r);
                    string[]? requirements = requirementCount < 0 ? null : new string[requirementCount];
                    for (var i = 0; i < requirementCount; i++)
                    {
                        requirements![i] = r.String() ?? "{}";
                    }
                    var entry = new HistoryEntry(leaseId, fence, owner, paths, requirements, r.Int64(), r.Int64(), r.Int64(), Reason(r.Byte()));
                    history.Add(version >= LogFormat.FirstSnapshotVersionWithPrincipals ? entry with { Principal = r.String(), EndedBy = r.String() } : entry);
                }
            }
            var drains = new List<Drain>();
            if (version >= LogFormat.FirstSnapshotVersionWithPrincipals)
            {
                for (var n = Count(ref r); n > 0; n--)
                {
                    drains.Add(new Drain(Codec.Path(r.String()), r.String() ?? LockEngine.AnonymousActor, r.Int64()));
                }
            }
            var revision = version >= LogFormat.FirstSnapshotVersionWithRevision ? r.Int64() : 0;
            if (r.Remaining != 0)
            {
                throw new FormatException($"{r.Remaining} bytes after the last section");
            }
            return (index, new EngineState(lastLease, lastSession, lastWaiter, lastFence, sessions, leases, waiters, lastRelease, resources, history, drains, revision));
        }
        catch (FormatException ex)
        {
            throw new CorruptDataException(file, HeaderSize, "the snapshot's checksum matches but its contents do not parse: " + ex.Message);
        }
    }

    private static int Count(ref BinaryIn r)
    {
        var n = r.Int32();
        return n >= 0 && n <= r.Remaining ? n : throw new FormatException($"bad count {n}");
    }

    /// <summary>A count where -1 means none (null): -1, or a count as <see cref="Count"/> checks it.</summary>
    private static int OptionalCount(ref BinaryIn r)
    {
        var n = r.Int32();
        return n == -1 ? -1 : n >= 0 && n <= r.Remaining ? n : throw new FormatException($"bad count {n}");
    }

    private readonly record struct ClaimFields(ResourcePath[] Paths, LockMode Mode, int Limit, bool LockParents, bool LockChildren, string? Owner, long SessionId, long TtlMs, GroupClaim[]? Groups, string? Principal = null);

    private static ResourcePath[] ReadPaths(ref BinaryIn r)
    {
        var paths = new ResourcePath[Count(ref r)];
        for (var i = 0; i < paths.Length; i++)
        {
            paths[i] = Codec.Path(r.String());
        }
        return paths;
    }

    private static ClaimFields ReadClaim(ref BinaryIn r, int version)
    {
        var paths = ReadPaths(ref r);
        var fields = new ClaimFields(paths, Codec.Mode(r.Byte()), r.Int32(), r.Bool(), r.Bool(), r.String(), r.Int64(), r.Int64(), null);
        if (version < 2)
        {
            return fields;
        }
        var count = OptionalCount(ref r);
        if (count < 0)
        {
            return WithPrincipal(ref r, fields, version);
        }
        var groups = new GroupClaim[count];
        for (var i = 0; i < count; i++)
        {
            var group = new PoolGroup(Codec.Path(r.String()), r.String() ?? "{}", r.Int32());
            if (!GroupClaim.TryCreate(group, out groups[i], out var error))
            {
                // A requirement an older version accepted and this one refuses (a $regex construct that needs
                // backtracking) was valid when written: keep it, matching nothing. Text that is not JSON never was.
                groups[i] = IsJson(group.Require) ? GroupClaim.Restore(group) : throw new FormatException($"requirement {group.Require}: {error}");
            }
            groups[i].Chosen = ReadPaths(ref r);
        }
        return WithPrincipal(ref r, fields with { Groups = groups }, version);
    }

    private static ClaimFields WithPrincipal(ref BinaryIn r, ClaimFields fields, int version)
        => version >= LogFormat.FirstSnapshotVersionWithPrincipals ? fields with { Principal = r.String() } : fields;

    private static bool IsJson(string text)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(text);
            return true;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    private static EndReason Reason(byte value) => value <= (byte)EndReason.Revoked
        ? (EndReason)value
        : throw new FormatException($"{value} is not an end reason");
}
