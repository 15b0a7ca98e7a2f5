using System.Globalization;
using System.Text.Json;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// What a <see cref="ChaosRun"/> saw, and the rules it checks: every accepted upload ends SUCCESS;
/// every thumbnail downloads whole through nginx and is the one its row names (ETag); each succeeded
/// task's thumbnail is stored whole (its bytes hash to its content key) under the key its row names,
/// every stored thumbnail is some task's, and no finished task's upload is left (read from the shared
/// folder or the bucket); with a bucket, no instance wrote anything into its own data folder but
/// scratch files, and only the killed one left any; no task was logged succeeded twice; the claims the
/// victim held were taken by others after their leases ran out (second attempt) and nothing else ran
/// twice; every long-poll through nginx was answered; a victim frozen and thawed instead of killed gave
/// up the claims it lost. Each rule's list is empty when it held.
/// </summary>
public sealed class ChaosReport(
    ChaosSettings settings,
    ServiceInstance victim,
    IReadOnlyList<ChaosUpload> uploads,
    IReadOnlyDictionary<string, JsonElement?> final,
    ChaosRun.KillRecord kill,
    ChaosOutage? outage,
    IReadOnlyDictionary<string, ChaosTaskRow> rows,
    IReadOnlyDictionary<string, string?> downloads,
    ChaosStorage storage,
    IReadOnlyDictionary<string, int> successLogLines,
    IReadOnlyList<ChaosLongPoll> longPolls,
    double uploadSeconds,
    double totalSeconds)
{
    public ChaosSettings Settings => settings;

    public string VictimId => victim.Id;

    /// <summary>Whether the victim was frozen and then let run on (a zombie) rather than killed.</summary>
    public bool Thawed => kill.ThawedAt is not null;

    public IReadOnlyList<ChaosUpload> Uploads => uploads;

    public ChaosRun.KillRecord Kill => kill;

    /// <summary>What the S3 server's outage did, when the run had one.</summary>
    public ChaosOutage? Outage => outage;

    /// <summary>
    /// With an outage of the S3 server: uploads sent while it was down not refused with 503
    /// storage_unavailable, or answered later than <see cref="OutageAnswerBound"/>; none refused, none
    /// accepted after it; /readyz not 503 while it was down, or not healthy again by itself.
    /// </summary>
    public IReadOnlyList<string> OutageProblems => outage?.Problems(uploads, OutageAnswerBound) ?? [];

    public static readonly TimeSpan OutageAnswerBound = TimeSpan.FromSeconds(10);

    public IReadOnlyDictionary<string, ChaosTaskRow> Rows => rows;

    public ChaosStorage Storage => storage;

    public IReadOnlyList<ChaosLongPoll> LongPolls => longPolls;

    public IReadOnlyList<string> Accepted => uploads.Where(upload => upload.TaskId is not null).Select(upload => upload.TaskId!).ToList();

    public int SuccessCount => final.Values.Count(body => StatusOf(body) == "SUCCESS");

    public int FailedCount => final.Values.Count(body => StatusOf(body) == "FAILED");

    /// <summary>Accepted tasks that did not end SUCCESS: FAILED with its code, still PENDING, or no answer.</summary>
    public IReadOnlyList<string> NotSucceeded => Accepted
        .Select(id => (Id: id, Body: final.GetValueOrDefault(id)))
        .Where(task => StatusOf(task.Body) != "SUCCESS")
        .Select(task => $"{task.Id}: {StatusOf(task.Body) ?? "no answer"} {ErrorCodeOf(task.Body)}".TrimEnd())
        .ToList();

    /// <summary>Thumbnails that did not download whole, or are not the ones their rows name.</summary>
    public IReadOnlyList<string> DownloadProblems => downloads.Where(pair => pair.Value is not null).Select(pair => $"{pair.Key}: {pair.Value}").ToList();

    /// <summary>Tasks that were logged succeeded more than once (over all instances): two SUCCESS writes.</summary>
    public IReadOnlyList<string> DoubleSuccesses => successLogLines.Where(pair => pair.Value > 1).Select(pair => $"{pair.Key}: {pair.Value} times").ToList();

    /// <summary>
    /// Stored blobs that break the rules: a succeeded task whose thumbnail is not stored under the key its
    /// row names, a thumbnail whose bytes do not hash to its name or that no task refers to (even a
    /// claim that died after storing one made the same bytes as the task's retry, so the same key), or
    /// the upload of a finished task. Uploads without a row (an instance killed between storing an upload
    /// and inserting its row), those of tasks the killed instance finished (killed between its SUCCESS and
    /// its delete), those of tasks finished as the S3 server went away (the worker's delete
    /// after SUCCESS found no server) and half-written files of a killed writer are left to the retention sweep.
    /// </summary>
    public IReadOnlyList<string> BlobProblems
    {
        get
        {
            var problems = new List<string>();
            var referenced = rows.Values.Select(row => row.ThumbnailKey).OfType<string>().ToHashSet(StringComparer.Ordinal);
            foreach (var row in rows.Values)
            {
                if (row.State == "succeeded" && row.ThumbnailKey is null)
                {
                    problems.Add($"{row.Id}: succeeded without a thumbnail key");
                }
                else if (row.State == "succeeded" && !storage.Thumbnails.ContainsKey(row.ThumbnailKey!))
                {
                    problems.Add($"{row.Id}: succeeded, but its thumbnail {row.ThumbnailKey} is not stored");
                }

                if (row.State is "succeeded" or "failed" && storage.Uploads.Contains($"uploads/{row.Id}") && !FinishedAsTheStoreWentAway(row) && !FinishedByTheKilledVictim(row))
                {
                    problems.Add($"{row.Id}: {row.State}, but its upload is still stored");
                }
            }

            foreach (var (key, problem) in storage.Thumbnails.Where(pair => !storage.Partials.Contains(pair.Key)))
            {
                if (problem is not null)
                {
                    problems.Add($"{key}: {problem}");
                }
                else if (!referenced.Contains(key))
                {
                    problems.Add($"{key}: no task refers to it");
                }
            }

            return problems;
        }
    }

    /// <summary>Stored uploads of tasks the SIGKILLed victim finished: it died between its SUCCESS and its delete (left to the retention sweep).</summary>
    public int UploadsLeftByTheKilledVictim => rows.Values.Count(row => storage.Uploads.Contains($"uploads/{row.Id}") && FinishedByTheKilledVictim(row));

    /// <summary>Stored uploads of tasks that finished as the S3 server went away: their deletion found no server (left to the retention sweep).</summary>
    public int UploadsLeftByTheOutage => rows.Values.Count(row => storage.Uploads.Contains($"uploads/{row.Id}") && FinishedAsTheStoreWentAway(row));

    /// <summary>Stored uploads no task row names (left to the retention sweep).</summary>
    public int UploadsWithoutARow => storage.Uploads.Count(key => !rows.ContainsKey(key["uploads/".Length..]));

    /// <summary>
    /// With a bucket: files in the instances' own data folders, where nothing but scratch files in use
    /// belongs, and none is in use once the run is over; only the SIGKILLed instance may leave scratch files.
    /// </summary>
    public IReadOnlyList<string> LocalFileProblems => storage.LocalFiles;

    /// <summary>
    /// A thawed victim: the claims it held that it did not log as lost or discarded (whatever it stored
    /// for them is checked by <see cref="BlobProblems"/>).
    /// </summary>
    public IReadOnlyList<string> ZombieProblems => !Thawed ? [] :
        kill.Held.Where(claim => !victim.GaveUpInLog.Contains(claim.Id)).Select(claim => $"{claim.Id}: the thawed victim did not log giving up its claim").ToList();

    /// <summary>Claims the victim held that were not finished by another instance after their lease ran out, on their second attempt.</summary>
    public IReadOnlyList<string> HeldProblems => kill.Held
        .Select(claim => (Claim: claim, Row: rows.GetValueOrDefault(claim.Id)))
        .Select(held => held.Row switch
        {
            null => $"{held.Claim.Id}: its row is gone",
            { State: not "succeeded" } row => $"{row.Id}: {row.State} {row.ErrorCode}",
            { Attempts: not 2 } row => $"{row.Id}: {row.Attempts} attempts, not 2",
            var row when row.LeaseOwner == victim.Id || row.LeaseToken == held.Claim.Token => $"{row.Id}: finished under the victim's own claim",
            var row when row.StartedAt <= held.Claim.ExpiresAt => $"{row.Id}: claimed again at {row.StartedAt}, before the victim's lease ran out at {held.Claim.ExpiresAt}",
            _ => null,
        })
        .OfType<string>()
        .ToList();

    /// <summary>Tasks processed more than once that the victim did not hold when it died (a live instance lost a lease).</summary>
    public IReadOnlyList<string> UnexpectedReruns => rows.Values
        .Where(row => row.Attempts > 1 && kill.Held.All(claim => claim.Id != row.Id))
        .Select(row => $"{row.Id}: {row.Attempts} attempts")
        .ToList();

    /// <summary>Long-polls through nginx that got no answer, or an answer other than 200.</summary>
    public IReadOnlyList<string> LongPollProblems => longPolls.Where(poll => poll.Status != 200)
        .Select(poll => $"{poll.TaskId} at {poll.Started:HH:mm:ss.fff}: {(poll.Status == 0 ? poll.Problem : poll.Status.ToString(CultureInfo.InvariantCulture))}")
        .ToList();

    /// <summary>Long-polls started after the victim died that nginx's live instances answered 200.</summary>
    public int LongPollsAnsweredAfterKill => kill.At is { } at ? longPolls.Count(poll => poll.Started > at && poll.Status == 200) : 0;

    /// <summary>Rows of uploads whose 202 never came (the victim stored it and died before it answered, for one).</summary>
    public int RowsWithoutA202 => rows.Count - Accepted.Count;

    /// <summary>Seconds from the SIGKILL to the last task the victim held ending, or null.</summary>
    public double? SecondsFromKillToLastHeldFinished => kill.At is { } at && kill.Held.Count > 0
        && kill.Held.Select(claim => rows.GetValueOrDefault(claim.Id)?.CompletedAt).ToList() is var done && done.All(ms => ms is not null)
            ? (done.Max()!.Value - at.ToUnixTimeMilliseconds()) / 1000.0
            : null;

    /// <summary>Every rule that broke, with what broke it; empty when the run kept them all.</summary>
    public IReadOnlyList<string> BrokenRules
    {
        get
        {
            var broken = new List<string>();
            void Rule(string rule, IReadOnlyList<string> offenders)
            {
                if (offenders.Count > 0)
                {
                    broken.Add($"{rule} ({offenders.Count}): {string.Join("; ", offenders.Take(10))}");
                }
            }

            if (kill.At is null || kill.Held.Count == 0)
            {
                broken.Add(kill.At is null ? "the victim was never killed" : "the victim held no claim when it died");
            }

            Rule("accepted but not SUCCESS", NotSucceeded);
            Rule("thumbnails that are not whole or not the task's", DownloadProblems);
            Rule("stored blobs against the rules", BlobProblems);
            Rule("files in the instances' own data folders", LocalFileProblems);
            Rule("tasks logged succeeded twice", DoubleSuccesses);
            Rule("claims of the victim not finished by another instance after their lease", HeldProblems);
            Rule("tasks run twice that the victim did not hold", UnexpectedReruns);
            Rule("long-polls not answered 200", LongPollProblems);
            Rule("lost claims the thawed victim did not give up cleanly", ZombieProblems);
            Rule("uploads and readiness around the S3 outage", OutageProblems);
            if (kill.At is not null && LongPollsAnsweredAfterKill == 0)
            {
                broken.Add("no long-poll started after the kill was answered");
            }

            return broken;
        }
    }

    /// <summary>The counts, one line each, for a test's output or the tool's report.</summary>
    public IEnumerable<string> Summary()
    {
        var refused = uploads.Where(upload => upload.Status != 202)
            .GroupBy(upload => upload.Status == 0 ? $"no answer ({upload.Problem})" : $"{upload.Status} {upload.Problem}".TrimEnd())
            .Select(group => $"{group.Count()}× {group.Key}");
        yield return $"uploads through nginx: {uploads.Count} in {uploadSeconds:F1} s at concurrency {settings.Concurrency}; 202: {Accepted.Count}"
                     + (uploads.Any(upload => upload.Status != 202) ? $"; other answers: {string.Join(", ", refused)}" : "");
        yield return $"victim {victim.Id}: {(Thawed ? "SIGSTOP" : "SIGKILL")} after {kill.AcceptedBefore} accepted uploads, when it had finished {kill.VictimSucceeded} task(s) "
                     + $"and held {kill.Held.Count} claim(s); {uploads.Count(upload => upload.AfterKill && upload.Status == 202)} uploads accepted after it";
        yield return $"accepted tasks: {SuccessCount} SUCCESS, {FailedCount} FAILED, {Accepted.Count - SuccessCount - FailedCount} unfinished; "
                     + $"{RowsWithoutA202} more row(s) whose 202 never came";
        yield return $"re-run after the {(Thawed ? "freeze" : "kill")}: {kill.Held.Count - HeldProblems.Count} of the {kill.Held.Count} held (attempt 2, on another instance, after the lease), "
                     + $"the last done {SecondsFromKillToLastHeldFinished?.ToString("F1", CultureInfo.InvariantCulture) ?? "—"} s after the {(Thawed ? "SIGSTOP" : "SIGKILL")}; "
                     + $"other tasks run twice: {UnexpectedReruns.Count}";
        yield return $"duplicates (a task logged succeeded twice): {DoubleSuccesses.Count}; thumbnails checked through nginx (ETag, bytes, decode): "
                     + $"{downloads.Count - DownloadProblems.Count} good, {DownloadProblems.Count} bad";
        if (Thawed)
        {
            yield return $"thawed {(kill.ThawedAt - kill.At)?.TotalSeconds:F1} s after the SIGSTOP: it logged {kill.Held.Count(claim => victim.GaveUpInLog.Contains(claim.Id))} "
                         + $"of its {kill.Held.Count} lost claims as given up";
        }

        yield return $"stored ({storage.Where}): {storage.Thumbnails.Count - storage.Partials.Count} thumbnail(s), {storage.Uploads.Count} upload(s); "
                     + $"{BlobProblems.Count} against the rules; left to the retention sweep: {UploadsWithoutARow} upload(s) without a row, "
                     + $"{UploadsLeftByTheKilledVictim} of tasks the killed instance finished, "
                     + (outage is null ? "" : $"{UploadsLeftByTheOutage} of tasks finished as the S3 server went away, ")
                     + $"{storage.Partials.Count} half-written file(s)"
                     + (storage.InBucket
                         ? $"; files in the instances' own data folders: {LocalFileProblems.Count} against the rule, {storage.KilledScratchFiles.Count} scratch file(s) of the killed instance"
                         : "");
        yield return $"long-polls through nginx: {longPolls.Count}, {LongPollsAnsweredAfterKill} started after the kill and answered 200, "
                     + $"{LongPollProblems.Count} not answered 200";
        if (outage is { Down: { } down, Restarting: { } restarting })
        {
            var during = uploads.Where(upload => upload.Sent > down && upload.Answered < restarting).ToList();
            yield return $"S3 outage: {(restarting - down).TotalSeconds:F1} s; {during.Count} upload(s) sent and answered meanwhile, "
                         + $"{during.Count(upload => upload.Problem == "storage_unavailable")} of them 503 storage_unavailable, "
                         + $"slowest {(during.Count == 0 ? 0 : during.Max(upload => (upload.Answered - upload.Sent).TotalMilliseconds)):F0} ms; "
                         + $"/readyz while down: {string.Join(", ", outage.ReadinessWhileDown.Select(status => (int)status))}; "
                         + $"every instance ready {outage.SecondsUntilReady?.ToString("F1", CultureInfo.InvariantCulture) ?? "—"} s after the restart";
        }

        yield return $"run: {totalSeconds:F1} s";
    }

    private bool FinishedByTheKilledVictim(ChaosTaskRow row) => !Thawed && kill.At is not null && row.State is ("succeeded" or "failed") && row.LeaseOwner == victim.Id;

    /// <summary>Whether the task finished from a few seconds before the S3 server went away until it was back (its upload's deletion may have found no server).</summary>
    private bool FinishedAsTheStoreWentAway(ChaosTaskRow row) =>
        outage is { Down: { } down, Up: { } up } && row.CompletedAt is { } completed
        && completed >= (down - TimeSpan.FromSeconds(5)).ToUnixTimeMilliseconds() && completed <= up.ToUnixTimeMilliseconds();

    private static string? StatusOf(JsonElement? body) =>
        body is { } b && b.TryGetProperty("task_status", out var status) ? status.GetString() : null;

    private static string? ErrorCodeOf(JsonElement? body) =>
        body is { } b && b.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object ? error.GetProperty("code").GetString() : null;
}
