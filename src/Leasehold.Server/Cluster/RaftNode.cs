using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Leasehold.Core;
using Leasehold.Server.Engine;
using Leasehold.Storage;

namespace Leasehold.Server.Cluster;

/// <summary>
/// This server as a member of a Raft cluster (DotNext's TCP transport, write-ahead log and simple state
/// machine). It starts and stops with the host, turns leadership into the writer's engine (<see cref="EngineHost.LeadAsync"/>)
/// and takes it away again (<see cref="EngineHost.Follow"/>), and tells the HTTP front door where the leader is.
/// </summary>
internal sealed partial class RaftNode : IHostedService, IAsyncDisposable
{
    /// <summary>The member metadata key holding a node's HTTP URL, so followers know where to forward.</summary>
    public const string UrlMetadata = "leasehold-url";

    private readonly ClusterOptions _options;
    private readonly ILogger<RaftNode> _logger;
    private readonly RaftCluster.TcpConfiguration _config;
    private readonly MemberList _members;
    private readonly Lock _leaderViewGate = new();
    private CancellationTokenSource _leaderView = new();
    private EndPoint? _leaderViewOf;
    private readonly List<EndPoint> _seedMembers;
    private readonly string _raftDir;
    private WriteAheadLog? _wal;
    private RaftCluster? _cluster;
    private volatile LeaderEpoch? _epoch;
    private readonly FileStream _lock;
    private EngineHost? _host;

    public RaftNode(ClusterOptions options, string dataDir, DurabilityOptions durability, EngineLimits limits, TimeProvider time, ILoggerFactory loggers, ClusterTls? tls = null)
    {
        _options = options;
        _logger = loggers.CreateLogger<RaftNode>();
        LocalEndPoint = ClusterOptions.ParseEndPoint(options.Node!, ClusterOptions.Section + ":Node");
        var members = options.Members.Select((m, i) => ClusterOptions.ParseEndPoint(m, $"{ClusterOptions.Section}:Members:{i}")).ToList();
        if (!options.ColdStart && !members.Contains(LocalEndPoint))
        {
            throw new InvalidDataException($"{ClusterOptions.Section}:Members must list this node's own endpoint {LocalEndPoint} (or set {ClusterOptions.Section}:ColdStart to start a new cluster alone)");
        }
        _raftDir = Path.Combine(dataDir, "raft");
        if (Directory.Exists(dataDir) && LogReader.Segments(dataDir).Count > 0)
        {
            throw new InvalidDataException($"the data directory {dataDir} holds a single server's log; a cluster node needs a directory of its own (docs/cluster.md)");
        }
        PrivateFiles.CreateDirectory(dataDir);
        PrivateFiles.CreateDirectory(_raftDir);
        try
        {
            // Held for the process's life: two nodes on one directory would corrupt each other's log.
            _lock = PrivateFiles.Create(Path.Combine(_raftDir, LogFormat.LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"the data directory {dataDir} is in use by another Leasehold server ({ex.Message})", ex);
        }
        Replica = new ReplicaStateMachine(new DirectoryInfo(Path.Combine(_raftDir, "state")), limits, durability.SnapshotEvery, time, _logger);
        Log = new RaftLog(this, durability.Policy, options.MaxEntriesInFlight, _logger);
        _members = new MemberList(Path.Combine(_raftDir, MemberList.FileName));
        _seedMembers = options.ColdStart ? [] : [.. members.Distinct()];
        _config = new RaftCluster.TcpConfiguration(LocalEndPoint)
        {
            ConfigurationStorage = _members,
            LowerElectionTimeout = options.ElectionTimeoutMs,
            UpperElectionTimeout = options.ElectionTimeoutMs * 2,
            RequestTimeout = TimeSpan.FromMilliseconds(options.RequestTimeoutMs),
            ConnectTimeout = TimeSpan.FromMilliseconds(Math.Min(options.RequestTimeoutMs, options.ElectionTimeoutMs)),
            ColdStart = options.ColdStart,
            LoggerFactory = loggers,
            TransmissionBlockSize = 65536,
            SslOptions = tls?.RaftOptions(),
        };
    }

    public IPEndPoint LocalEndPoint { get; }

    public ReplicaStateMachine Replica { get; }

    public RaftLog Log { get; }

    public RaftCluster Cluster => _cluster ?? throw new InvalidOperationException("the cluster node has not started");

    public WriteAheadLog Wal => _wal ?? throw new InvalidOperationException("the cluster node has not started");

    /// <summary>Why this node can no longer take part (its state machine could not apply an entry, or its committer died), or null.</summary>
    public Exception? Failure => Replica.Failure ?? Log.Failure;

    /// <summary>Raised once when <see cref="Failure"/> is set: the host stops.</summary>
    public event Action<Exception>? Died
    {
        add
        {
            Replica.Failed += value;
            Log.Died += value;
        }
        remove
        {
            Replica.Failed -= value;
            Log.Died -= value;
        }
    }

    /// <summary>The leadership this node holds and its writer decides under, or null.</summary>
    public LeaderEpoch? Epoch => _epoch;

    /// <summary>Whether this node leads and its writer has taken over (requests are served here, not forwarded).</summary>
    public bool Serving => _epoch is { Token.IsCancellationRequested: false };

    /// <summary>The writer this node feeds; set once, before start.</summary>
    public EngineHost Host
    {
        set => _host = value;
    }

    /// <summary>The URL this node's HTTP API is reached at (published to the other members).</summary>
    public string? PublicUrl { get; set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // The state machine's snapshot first, then the log that replays what follows it (DotNext's order).
        await Replica.RestoreAsync(cancellationToken).ConfigureAwait(false);
        var logDir = Path.Combine(_raftDir, "log");
        _wal = new WriteAheadLog(new WriteAheadLog.Options
        {
            Location = logDir,
            ChunkSize = LogChunkSize(logDir),
            // Its default plus the commits the leader's committer waits for at once.
            ConcurrencyLevel = (Environment.ProcessorCount * 2) + 1 + _options.MaxEntriesInFlight,
        }, Replica);
        if (PublicUrl is not null)
        {
            _config.Metadata[UrlMetadata] = PublicUrl;
        }
        foreach (var (key, value) in Metadata)
        {
            _config.Metadata[key] = value;
        }
        var kept = await _members.LoadOrSeedAsync(_seedMembers, cancellationToken).ConfigureAwait(false);
        if (!kept.Contains(LocalEndPoint) && kept.Count > 0)
        {
            // Removed from the cluster: DotNext keeps such a node in standby, where it neither votes nor leads.
            LogNotAMember(LocalEndPoint, string.Join(", ", kept));
        }
        else if (_seedMembers.Count > 0 && !kept.ToHashSet().SetEquals(_seedMembers))
        {
            // The membership changed since this directory was new: the cluster's word counts, not the settings'.
            LogMembersKept(string.Join(", ", kept), string.Join(", ", _seedMembers));
        }
        _cluster = new RaftCluster(_config) { AuditTrail = _wal };
        Replica.CurrentTerm = () => _cluster.Term;
        _cluster.LeaderChanged += OnLeaderChanged;
        Log.Start();
        await _cluster.StartAsync(cancellationToken).ConfigureAwait(false);
        Replica.FreshAfter = _wal.LastEntryIndex;
        LogStarted(LocalEndPoint, string.Join(", ", _cluster.Members.Select(m => m.EndPoint)), _wal.LastCommittedEntryIndex);
    }

    /// <summary>The size of each file of a new Raft log's entries (DotNext's default is the memory page, 4 KiB).</summary>
    public const int DefaultLogChunkSize = 1 << 20;

    /// <summary>
    /// The chunk size of this node's Raft log. DotNext cuts the log's entry data into files of this size (in its
    /// folder <c>data</c>, named by their number, each as long as the chunk) and cannot read a log with another
    /// size, so a log that has such files keeps the size they have (a log made before this setting: one memory
    /// page, DotNext's default); a new log gets <see cref="DefaultLogChunkSize"/>. With the default of one page,
    /// a busy leader created, mapped, flushed and later deleted a file every few entries. A log whose data files
    /// are all gone (reclaimed after a snapshot) holds no entry data to misread, so any size is right for it.
    /// </summary>
    internal static int LogChunkSize(string logDir)
    {
        var data = new DirectoryInfo(Path.Combine(logDir, "data"));
        if (data.Exists)
        {
            var sizes = data.EnumerateFiles()
                .Where(f => uint.TryParse(f.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _) && f.Length > 0)
                .Select(f => f.Length)
                .Distinct()
                .ToList();
            if (sizes.Count > 1 || sizes is [var odd] && (odd > int.MaxValue || odd % Environment.SystemPageSize != 0))
            {
                throw new InvalidDataException($"the Raft log's data files in {data.FullName} are not all one chunk size (found {string.Join(", ", sizes)} bytes); restore the node from a copy or replace it (docs/cluster.md)");
            }
            if (sizes is [var size])
            {
                return (int)size;
            }
        }
        return DefaultLogChunkSize;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_cluster is { } cluster)
        {
            cluster.LeaderChanged -= OnLeaderChanged;
            if (_epoch is { } epoch)
            {
                StepDown(epoch, resign: false);
            }
            await cluster.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is { } cluster)
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
        }
        if (_wal is { } wal)
        {
            await wal.DisposeAsync().ConfigureAwait(false);
        }
        await Replica.DisposeAsync().ConfigureAwait(false);
        _members.Dispose();
        await _lock.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>How long one answer of the leader's commit index serves every status asked meanwhile.</summary>
    private static readonly TimeSpan LeaderCommitReuse = TimeSpan.FromSeconds(1);

    /// <summary>How long a status waits for the leader to tell its commit index (readiness probes often time out at 1 s).</summary>
    private static readonly TimeSpan LeaderCommitWait = TimeSpan.FromMilliseconds(500);

    // Read and replaced whole by any request thread (a reference, never torn).
    private LeaderCommitAnswer? _leaderCommit;

    private sealed record LeaderCommitAnswer(RaftClusterMember Leader, long AskedAt, Task<long?> Answer);

    /// <summary>
    /// The leader's commit index when another node leads, asked over the Raft transport (DotNext's synchronize request,
    /// the one its reads on a follower use); null when no other node leads, or it does not answer within
    /// <see cref="LeaderCommitWait"/> or no longer leads. One question serves every caller for a second, so probes
    /// (readiness is open to anyone when security is off) cost the leader at most one request per follower a second.
    /// </summary>
    public Task<long?> LeaderCommitAsync(long commit, CancellationToken cancellationToken)
    {
        if (_cluster?.Leader is not { IsRemote: true } leader)
        {
            return Task.FromResult<long?>(null);
        }
        var now = Environment.TickCount64;
        var asked = Volatile.Read(ref _leaderCommit);
        if (asked is null || !ReferenceEquals(asked.Leader, leader) || now - asked.AskedAt >= LeaderCommitReuse.TotalMilliseconds)
        {
            // (Two callers at once may both ask: harmless.)
            asked = new LeaderCommitAnswer(leader, now, AskLeaderCommitAsync(leader, commit));
            Volatile.Write(ref _leaderCommit, asked);
        }
        return asked.Answer.WaitAsync(cancellationToken);
    }

    private static async Task<long?> AskLeaderCommitAsync(IRaftClusterMember leader, long commit)
    {
        using var wait = new CancellationTokenSource(LeaderCommitWait);
        try
        {
            return await leader.SynchronizeAsync(commit, wait.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Gone, frozen or no longer leading: the lag is not known, which the status says (null), rather than guessed.
            return null;
        }
    }

    /// <summary>The HTTP URL of the leader when another node leads; null when this node leads or no leader is known.</summary>
    public ValueTask<string?> LeaderUrlAsync(CancellationToken cancellationToken) => LeaderMetadataAsync(UrlMetadata, cancellationToken);

    /// <summary>What another node that leads published under <paramref name="key"/>; null when this node leads, none is known, or it published none.</summary>
    public async ValueTask<string?> LeaderMetadataAsync(string key, CancellationToken cancellationToken)
    {
        if (_cluster?.Leader is not { IsRemote: true } leader)
        {
            return null;
        }
        if (leader.TryGetMetadata() is { } cached && cached.TryGetValue(key, out var value))
        {
            return value;
        }
        try
        {
            var metadata = await leader.GetMetadataAsync(refresh: true, cancellationToken).ConfigureAwait(false);
            return metadata.TryGetValue(key, out value) ? value : null;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The leader went away before it told this node its addresses: as if none were known.
            return null;
        }
    }

    /// <summary>Raised once each time this node stops leading (after taking over): the native port closes its connections.</summary>
    public event Action? SteppedDown;

    /// <summary>Other values this node publishes to the other members (set before start).</summary>
    public Dictionary<string, string> Metadata { get; } = [];

    /// <summary>
    /// Cancelled when this node learns of another leader than the one it knew, or has known none for a while
    /// (<see cref="NoLeaderGrace"/>): requests forwarded to the old one end then rather than wait on a leader that may
    /// be frozen or deposed (<see cref="LeaderForwarding"/>). A moment without a leader that ends with the same one
    /// (a missed heartbeat, a vote that came to nothing) ends nothing.
    /// </summary>
    public CancellationToken LeaderViewToken
    {
        get
        {
            lock (_leaderViewGate)
            {
                // The grace ran out and the same leader is known again (its timer fired as it came back): forwards to
                // it are fine, so they get a view of their own.
                if (_leaderView.IsCancellationRequested && _leaderViewOf is { } seen && seen.Equals(_cluster?.Leader?.EndPoint))
                {
                    _leaderView = new CancellationTokenSource();
                }
                return _leaderView.Token;
            }
        }
    }

    /// <summary>How long this node may know no leader before the forwards to the last one end: a few election timeouts.</summary>
    private TimeSpan NoLeaderGrace => TimeSpan.FromMilliseconds(_options.ElectionTimeoutMs * 4);

    private void UpdateLeaderView(EndPoint? leader)
    {
        lock (_leaderViewGate)
        {
            if (leader is null)
            {
                // Maybe only a missed heartbeat: the forwards end if no leader is back in time.
                _leaderView.CancelAfter(NoLeaderGrace);
                return;
            }
            if (leader.Equals(_leaderViewOf))
            {
                // The same leader back: the grace timer stops (if it fired already, LeaderViewToken gives the forwards
                // from now on a new view).
                _leaderView.CancelAfter(Timeout.InfiniteTimeSpan);
                return;
            }
            var seen = _leaderView;
            _leaderView = new CancellationTokenSource();
            _leaderViewOf = leader;
            // Off DotNext's transition: cancelling runs the forwards' own clean-up.
            _ = Task.Run(seen.Cancel);
        }
    }

    private void OnLeaderChanged(RaftCluster<RaftClusterMember> cluster, RaftClusterMember? leader)
    {
        UpdateLeaderView(leader?.EndPoint);
        if (leader is { IsRemote: false })
        {
            // Off DotNext's transition (raised while it still sets up the leader state and appends its no-op).
            _ = Task.Run(TakeLeadershipAsync);
        }
        else if (_epoch is { } epoch)
        {
            StepDown(epoch, resign: false);
        }
        LogLeaderChanged(leader?.EndPoint?.ToString() ?? "none", cluster.Term);
    }

    /// <summary>
    /// This node was elected. Before its writer decides anything, everything committed before (entries of
    /// earlier terms included) must be applied here: a leader-start entry is replicated in the new term, which
    /// commits all that precedes it, and the copy the writer decides on is taken once the state machine has
    /// applied it all.
    /// </summary>
    private async Task TakeLeadershipAsync()
    {
        var cluster = Cluster;
        CancellationToken token;
        try
        {
            // The leadership's token once DotNext has set the leader state up (the event comes before that).
            token = await cluster.WaitForLeadershipAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMilliseconds(_options.ElectionTimeoutMs * 4)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return;
        }
        var term = cluster.Term;
        LeaderEpoch? epoch = null;
        if (Failure is not null)
        {
            // This node's state is not the cluster's: it must not lead on it.
            _ = ((DotNext.Net.Cluster.ICluster)cluster).ResignAsync(CancellationToken.None).AsTask();
            return;
        }
        try
        {
            if (token.IsCancellationRequested || !await ReplicateAsync(ClusterEntry.LeaderStart(), new LeaderEpoch(term, token)).ConfigureAwait(false))
            {
                return;
            }
            await Wal.WaitForApplyAsync(Wal.LastCommittedEntryIndex, token).ConfigureAwait(false);
            var (engine, clock) = Replica.Fork();
            epoch = new LeaderEpoch(term, token);
            _epoch = epoch;
            var lead = _host!.LeadAsync(epoch, engine, clock);
            // Registered after the writer has the lead queued, so a loss in between is queued after it.
            token.Register(() => StepDown(epoch, resign: false));
            await lead.ConfigureAwait(false);
            LogLeading(term, engine.Leases.Count, engine.Sessions.Count);
        }
        catch (OperationCanceledException)
        {
            // Lost the election's fruit before taking over: nothing was decided here.
        }
        catch (Exception ex) when (ex is DotNext.Net.Cluster.Consensus.Raft.NotLeaderException or Engine.NotLeaderException)
        {
            // Lost the leadership while taking over: nothing was decided under it.
            if (epoch is not null)
            {
                StepDown(epoch, resign: false);
            }
        }
        catch (Exception ex)
        {
            LogTakeOverFailed(ex, term);
            if (epoch is not null)
            {
                StepDown(epoch, resign: true);
            }
            else if (!token.IsCancellationRequested)
            {
                _ = ((DotNext.Net.Cluster.ICluster)cluster).ResignAsync(CancellationToken.None).AsTask();
            }
        }
    }

    /// <summary>
    /// Appends <paramref name="payload"/> in <paramref name="epoch"/>'s term and waits until a majority has it.
    /// True only if it was committed in that very term (the term unchanged since): then it is in the log for
    /// good. False or an exception: it may or may not be.
    /// </summary>
    public async ValueTask<bool> ReplicateAsync(ReadOnlyMemory<byte> payload, LeaderEpoch epoch)
    {
        var cluster = Cluster;
        await cluster.ReplicateAsync(new BinaryLogEntry { Content = payload, Term = epoch.Term }, epoch.Token).ConfigureAwait(false);
        return cluster.Term == epoch.Term;
    }

    /// <summary>
    /// Appends <paramref name="payload"/> to the log in <paramref name="epoch"/>'s term, without waiting for it to be
    /// replicated (<see cref="WaitForCommitAsync"/> does), and asks for a replication round. What DotNext's
    /// <c>ReplicateAsync</c> does before it waits: the same leadership check, then the append. One append at a
    /// time from the committer, each finished before the next begins, so entries keep the writer's order.
    /// </summary>
    public async ValueTask<long> AppendAsync(ReadOnlyMemory<byte> payload, LeaderEpoch epoch)
    {
        var cluster = Cluster;
        if (epoch.Token.IsCancellationRequested || cluster.Term != epoch.Term || cluster.Leader is not { IsRemote: false })
        {
            throw new DotNext.Net.Cluster.Consensus.Raft.NotLeaderException();
        }
        var index = await Wal.AppendAsync(new BinaryLogEntry { Content = payload, Term = epoch.Term }, epoch.Token).ConfigureAwait(false);
        ForceReplication(cluster, epoch);
        return index;
    }

    /// <summary>
    /// Completes once the entry at <paramref name="index"/> is committed (and applied here) while
    /// <paramref name="epoch"/> lasts; fails with <see cref="OperationCanceledException"/> when the leadership ends
    /// first. The caller still checks the term: only an entry committed in its own term is known to be its own.
    /// </summary>
    public ValueTask WaitForCommitAsync(long index, LeaderEpoch epoch) => Wal.WaitForApplyAsync(index, epoch.Token);

    /// <summary>Starts a replication round now (or right after the one under way) instead of at the next heartbeat.</summary>
    private void ForceReplication(RaftCluster cluster, LeaderEpoch epoch)
    {
        // DotNext's public call also waits for the round to end; nobody waits for that here (the entry's commit is
        // waited for instead), but its failure (the leadership ended) must be observed.
        var round = cluster.ForceReplicationAsync(epoch.Token);
        if (!round.IsCompleted)
        {
            _ = round.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else if (!round.IsCompletedSuccessfully)
        {
            _ = round.AsTask().Exception;
        }
    }

    /// <summary>Ends <paramref name="epoch"/> (once): the writer drops its copy; with <paramref name="resign"/> the node also gives up leading.</summary>
    public void StepDown(LeaderEpoch epoch, bool resign)
    {
        var current = Interlocked.CompareExchange(ref _epoch, null, epoch) == epoch;
        // Always queued: a Follow for an epoch the writer no longer (or not yet) leads under is ignored there, and
        // one queued behind that epoch's Lead takes the copy away again.
        _host?.Follow(epoch);
        if (current)
        {
            LogSteppedDown(epoch.Term);
            SteppedDown?.Invoke();
        }
        if (resign && !epoch.Token.IsCancellationRequested)
        {
            _ = (_cluster as DotNext.Net.Cluster.ICluster)?.ResignAsync(CancellationToken.None).AsTask();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster members kept in the data directory ({Kept}) differ from the settings' ({Settings}): the kept list is used (the cluster's membership changed since this directory was new, or the settings did); update the settings to match, or, if the kept list is the wrong one, stop the node and delete raft/members")]
    private partial void LogMembersKept(string kept, string settings);

    [LoggerMessage(Level = LogLevel.Warning, Message = "This node ({Node}) is not among the cluster members its data directory keeps ({Kept}): it was removed, and takes no part (it neither votes nor leads) until it is added again")]
    private partial void LogNotAMember(EndPoint node, string kept);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster node {Node} started; members {Members}; committed through entry {Commit}")]
    private partial void LogStarted(IPEndPoint node, string members, long commit);

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster leader is now {Leader} (term {Term})")]
    private partial void LogLeaderChanged(string leader, long term);

    [LoggerMessage(Level = LogLevel.Information, Message = "This node leads in term {Term}: took over {Leases} leases and {Sessions} sessions")]
    private partial void LogLeading(long term, int leases, int sessions);

    [LoggerMessage(Level = LogLevel.Information, Message = "This node stopped leading (term {Term})")]
    private partial void LogSteppedDown(long term);

    [LoggerMessage(Level = LogLevel.Error, Message = "Taking over as leader in term {Term} failed")]
    private partial void LogTakeOverFailed(Exception ex, long term);
}
