using Dapper;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace ThumbnailApi.Persistence;

/// <summary>
/// This instance's ear on PostgreSQL: one connection of its own that LISTENs to
/// <see cref="PostgresDatabase.DoneChannel"/> (tasks finished or deleted anywhere: long-polls answer)
/// and to this instance's claim channel (a queued task chose this instance: an idle worker claims it),
/// and turns each notification into a <see cref="TaskEvents"/> event. It keeps this instance's row
/// in <c>claimers</c>, with how many of its workers are idle, so the schema's trigger wakes an
/// instance that can take the task. When the connection breaks it reconnects, and then raises
/// <see cref="TaskEvents.Missed"/>: notifications sent meanwhile are lost, so every waiter looks again.
/// </summary>
public sealed partial class PostgresListener(
    PostgresDatabase database,
    InstanceIdentity instance,
    TaskEvents events,
    ILogger<PostgresListener> logger) : BackgroundService, IIdleWorkers
{
    /// <summary>How the listening connection shows in pg_stat_activity.</summary>
    public const string ApplicationName = "thumbnailapi-listener";

    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan ReconnectPause = TimeSpan.FromSeconds(1);

    private readonly string _claimChannel = $"thumbnail_claim_{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}";
    private readonly SemaphoreSlim _idleChanged = new(0, 1);
    private int _idle;

    /// <summary>True while the listening connection is open (readiness).</summary>
    public bool Listening { get; private set; }

    public void Report(int idleWorkers)
    {
        Interlocked.Exchange(ref _idle, idleWorkers);
        try
        {
            _idleChanged.Release();
        }
        catch (SemaphoreFullException)
        {
            // A write is already due; it will send the latest count.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reports = WriteIdleReportsAsync(stoppingToken);
        var first = true;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(first, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception problem) when (problem is NpgsqlException or IOException or TimeoutException or System.Net.Sockets.SocketException)
            {
                Listening = false;
                ListenerLost(logger, problem);
                await Task.Delay(ReconnectPause, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            first = false;
        }

        Listening = false;
        await reports.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await LeaveAsync();
    }

    private async Task ListenAsync(bool first, CancellationToken stoppingToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(database.Source.ConnectionString) { Pooling = false, KeepAlive = 15, ApplicationName = ApplicationName };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(stoppingToken);
        connection.Notification += (_, notification) => Dispatch(notification.Channel, notification.Payload);
        await connection.ExecuteAsync($"LISTEN {PostgresDatabase.DoneChannel}; LISTEN \"{_claimChannel}\";");
        await UpsertClaimerAsync(connection);
        Listening = true;
        if (!first)
        {
            Reconnected(logger);
            events.RaiseMissed();
        }

        events.RaiseWorkQueued(); // whatever was queued while no one listened
        while (!stoppingToken.IsCancellationRequested)
        {
            if (!await connection.WaitAsync(Heartbeat, stoppingToken))
            {
                await UpsertClaimerAsync(connection); // between waits the connection runs statements as usual
                await connection.ExecuteAsync("DELETE FROM claimers WHERE seen_at < now() - interval '10 minutes'");
            }
        }
    }

    private void Dispatch(string channel, string payload)
    {
        if (channel == PostgresDatabase.DoneChannel)
        {
            events.RaiseFinished(payload);
        }
        else
        {
            events.RaiseWorkQueued();
        }
    }

    private Task UpsertClaimerAsync(NpgsqlConnection connection) => connection.ExecuteAsync(
        """
        INSERT INTO claimers (instance_id, channel, idle_workers, seen_at) VALUES (@Id, @channel, @idle, now())
        ON CONFLICT (instance_id) DO UPDATE SET channel = @channel, idle_workers = @idle, seen_at = now()
        """,
        new { instance.Id, channel = _claimChannel, idle = Volatile.Read(ref _idle) });

    /// <summary>Sends the latest idle-worker count whenever it changes, on pooled connections, one write at a time.</summary>
    private async Task WriteIdleReportsAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await _idleChanged.WaitAsync(stoppingToken);
                await using var connection = await database.OpenAsync(stoppingToken);
                await connection.ExecuteAsync(
                    "UPDATE claimers SET idle_workers = @idle, seen_at = now() WHERE instance_id = @Id",
                    new { idle = Volatile.Read(ref _idle), instance.Id });
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception problem) when (problem is NpgsqlException or IOException or TimeoutException or ObjectDisposedException)
            {
                // The listener's heartbeat writes the count again once the database answers.
                await Task.Delay(ReconnectPause, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task LeaveAsync()
    {
        try
        {
            await using var connection = await database.OpenAsync();
            await connection.ExecuteAsync("DELETE FROM claimers WHERE instance_id = @Id", new { instance.Id });
        }
        catch (Exception problem) when (problem is NpgsqlException or IOException or TimeoutException or ObjectDisposedException)
        {
            // Gone from the table within minutes anyway (its seen_at ages out); at shutdown the data source may be gone already.
        }
    }

    [LoggerMessage(1400, LogLevel.Warning, "Lost the PostgreSQL notification connection; reconnecting (tasks are still claimed by the fallback poll)")]
    private static partial void ListenerLost(ILogger logger, Exception exception);

    [LoggerMessage(1401, LogLevel.Information, "PostgreSQL notifications are back; every waiting request looks at its task again")]
    private static partial void Reconnected(ILogger logger);
}

/// <summary>
/// Where the workers say how many of them wait for work, so a queued task wakes an instance that can
/// take it (PostgreSQL); nothing to tell for a single process.
/// </summary>
public interface IIdleWorkers
{
    void Report(int idleWorkers);
}

/// <summary>One process: the in-process queue wakes its own workers.</summary>
public sealed class NoIdleWorkerReports : IIdleWorkers
{
    public void Report(int idleWorkers)
    {
    }
}
