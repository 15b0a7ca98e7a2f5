using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Three real processes of the service (the built ThumbnailApi.dll) with the PostgreSQL store on one
/// fresh database and one data folder, behind the committed nginx.conf run by Debian's nginx, with a
/// short lease. A few hundred uploads go through nginx while clients long-poll; one instance is
/// SIGKILLed while it holds claims, after it has finished tasks of its own. What only real processes
/// can show: nothing accepted is lost or done twice, and the survivors take over the dead one's work
/// and its clients. The scenario (Support/ChaosRun) is also tools/scale-out.sh's, with bigger numbers.
/// </summary>
[TestFixture]
[NonParallelizable]
public sealed class ChaosTests
{
    private static readonly string ServiceDll = Path.Combine(AppContext.BaseDirectory, "ThumbnailApi.dll");

    [Test]
    public async Task When_one_of_three_instances_behind_nginx_is_killed_holding_claims_every_accepted_upload_ends_with_exactly_one_whole_thumbnail()
    {
        var server = Requires.Postgres();
        Requires.Nginx();
        var shared = new Dictionary<string, string>
        {
            ["ThumbnailApi:LeaseSeconds"] = "4",
            ["ThumbnailApi:WorkerCount"] = "2",
        };
        await using var cluster = await ScaledOutCluster.CreateAsync(server, ServiceDll, shared);
        for (var i = 0; i < 3; i++)
        {
            await cluster.StartInstanceAsync();
        }

        await cluster.StartNginxAsync();
        var victim = cluster.Instances[1];

        var report = await ChaosRun.RunAsync(cluster, victim, new ChaosSettings { Uploads = 300, Concurrency = 8, LongPollers = 4 },
            TestImages.Folder, line => TestContext.Out.WriteLine(line));

        foreach (var line in report.Summary())
        {
            TestContext.Out.WriteLine(line);
        }

        Assert.Multiple(() =>
        {
            Assert.That(report.Kill.At, Is.Not.Null, "the victim was killed");
            Assert.That(report.Kill.VictimSucceeded, Is.GreaterThanOrEqualTo(10), "it had finished tasks of its own");
            Assert.That(report.Kill.Held, Is.Not.Empty, "it held claims when it died");
            Assert.That(report.Accepted, Has.Count.GreaterThanOrEqualTo(280), "nearly every upload was accepted: nginx sent them to the live instances");
            Assert.That(report.NotSucceeded, Is.Empty, "every accepted upload of these valid images ends SUCCESS");
            Assert.That(report.DownloadProblems, Is.Empty, "each thumbnail downloads through nginx whole, with the ETag its row recorded");
            Assert.That(report.FileProblems, Is.Empty, "one thumbnail file per task, named with its row's lease token; others only of killed claims");
            Assert.That(report.DoubleSuccesses, Is.Empty, "no task was written SUCCESS twice");
            Assert.That(report.HeldProblems, Is.Empty, "the victim's claims were finished by others on a second attempt, after its lease ran out");
            Assert.That(report.UnexpectedReruns, Is.Empty, "nothing else ran twice: no live instance lost a lease");
            Assert.That(report.LongPollProblems, Is.Empty, "every long-poll through nginx was answered");
            Assert.That(report.LongPollsAnsweredAfterKill, Is.GreaterThan(0), "long-polls started after the kill were answered by the live instances");
        });
    }
}
