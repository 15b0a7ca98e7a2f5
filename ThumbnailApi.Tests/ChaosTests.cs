using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>
/// Three real processes of the service (the built ThumbnailApi.dll) with the PostgreSQL store on one
/// fresh database, their blobs in one shared data folder or in an S3 bucket with a data folder of
/// its own for each (nothing shared but the database and the bucket), behind the committed nginx.conf run by Debian's nginx, with a
/// short lease. A few hundred uploads go through nginx while clients long-poll; one instance is
/// SIGKILLed while it holds claims, after it has finished tasks of its own. What only real processes
/// can show: nothing accepted is lost or done twice, and the survivors take over the dead one's work
/// and its clients. Frozen instead of killed and let run on after others took its claims, the instance
/// cannot write over their results nor leave stray blobs (fencing by the lease token). Every
/// accepted upload's thumbnail is read back from where the blobs are. The scenario
/// (Support/ChaosRun) is also tools/scale-out.sh's, with bigger numbers.
/// </summary>
[TestFixtureSource(nameof(Storage))]
[NonParallelizable]
public sealed class ChaosTests(InstanceBlobs blobs)
{
    private static readonly string ServiceDll = Path.Combine(AppContext.BaseDirectory, "ThumbnailApi.dll");

    private static readonly TestFixtureData[] Storage =
    [
        new TestFixtureData(InstanceBlobs.SharedFolder).SetArgDisplayNames("a shared data folder"),
        new TestFixtureData(InstanceBlobs.S3).SetArgDisplayNames("an S3 bucket and a data folder per instance"),
    ];

    [Test]
    public async Task When_one_of_three_instances_behind_nginx_is_killed_holding_claims_every_accepted_upload_ends_with_exactly_one_whole_thumbnail()
    {
        await using var cluster = await StartThreeInstancesBehindNginxAsync(await BucketAsync());

        var report = await RunAsync(cluster, new ChaosSettings { Uploads = 300, Concurrency = 8, LongPollers = 4 });

        Assert.Multiple(() =>
        {
            AssertTheVictimHadWorkedAndHeldClaims(report);
            Assert.That(report.Accepted, Has.Count.GreaterThanOrEqualTo(280), "nearly every upload was accepted: nginx sent them to the live instances");
            AssertNothingLostAndNothingDoneTwice(report);
            Assert.That(report.LongPollsAnsweredAfterKill, Is.GreaterThan(0), "long-polls started after the kill were answered by the live instances");
        });
    }

    [Test]
    public async Task An_instance_frozen_past_its_lease_and_thawed_cannot_replace_the_results_of_those_that_took_its_claims()
    {
        await using var cluster = await StartThreeInstancesBehindNginxAsync(await BucketAsync());

        var report = await RunAsync(cluster, new ChaosSettings { Uploads = 200, Concurrency = 8, LongPollers = 4, FreezeInsteadOfKill = true });

        Assert.Multiple(() =>
        {
            AssertTheVictimHadWorkedAndHeldClaims(report);
            Assert.That(report.Kill.ThawedAt, Is.Not.Null, "the frozen instance was let run on");
            Assert.That(report.Accepted, Has.Count.EqualTo(200), "a frozen instance answers late, but answers");
            AssertNothingLostAndNothingDoneTwice(report);
            Assert.That(report.ZombieProblems, Is.Empty, "the thawed instance logged each claim it lost as lost or discarded");
        });
    }

    /// <summary>Three instances (lease 4 s, two workers each) on a fresh database, their blobs in <paramref name="bucket"/> or a shared folder, behind nginx.</summary>
    internal static async Task<ScaledOutCluster> StartThreeInstancesBehindNginxAsync(S3Bucket? bucket)
    {
        var server = Requires.Postgres();
        Requires.Nginx();
        var shared = new Dictionary<string, string>
        {
            ["ThumbnailApi:LeaseSeconds"] = "4",
            ["ThumbnailApi:WorkerCount"] = "2",
        };
        var cluster = await ScaledOutCluster.CreateAsync(server, ServiceDll, shared, bucket);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                await cluster.StartInstanceAsync();
            }

            await cluster.StartNginxAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private async Task<S3Bucket?> BucketAsync() => blobs == InstanceBlobs.S3 ? await S3Bucket.CreateAsync(Requires.S3()) : null;

    internal static async Task<ChaosReport> RunAsync(ScaledOutCluster cluster, ChaosSettings settings)
    {
        var report = await ChaosRun.RunAsync(cluster, cluster.Instances[1], settings, TestImages.Folder, line => TestContext.Out.WriteLine(line));
        foreach (var line in report.Summary())
        {
            TestContext.Out.WriteLine(line);
        }

        return report;
    }

    internal static void AssertTheVictimHadWorkedAndHeldClaims(ChaosReport report)
    {
        Assert.That(report.Kill.At, Is.Not.Null, "the victim was stopped");
        Assert.That(report.Kill.VictimSucceeded, Is.GreaterThanOrEqualTo(10), "it had finished tasks of its own");
        Assert.That(report.Kill.Held, Is.Not.Empty, "it held claims when it stopped");
    }

    internal static void AssertNothingLostAndNothingDoneTwice(ChaosReport report)
    {
        Assert.That(report.NotSucceeded, Is.Empty, "every accepted upload of these valid images ends SUCCESS");
        Assert.That(report.DownloadProblems, Is.Empty, "each thumbnail downloads through nginx whole, with the ETag its row recorded");
        Assert.That(report.BlobProblems, Is.Empty,
            "each succeeded task's thumbnail stored whole under the key its row names, no stored thumbnail that no task refers to, no finished task's upload left");
        Assert.That(report.LocalFileProblems, Is.Empty, "with a bucket, nothing in a live instance's data folder, and only scratch files in the killed one's");
        Assert.That(report.DoubleSuccesses, Is.Empty, "no task was written SUCCESS twice");
        Assert.That(report.HeldProblems, Is.Empty, "the victim's claims were finished by others on a second attempt, after its lease ran out");
        Assert.That(report.UnexpectedReruns, Is.Empty, "nothing else ran twice: no live instance lost a lease");
        Assert.That(report.LongPollProblems, Is.Empty, "every long-poll through nginx was answered");
    }
}
