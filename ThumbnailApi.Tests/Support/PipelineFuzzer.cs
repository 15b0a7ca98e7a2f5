using System.Collections.Concurrent;
using System.Diagnostics;
using ThumbnailApi.Imaging;

namespace ThumbnailApi.Tests.Support;

/// <summary>One case that broke the rule: an exception other than the pipeline's typed rejection, or no answer in time.</summary>
public sealed record FuzzFailure(string File, int Case, string Mutation, string Problem);

/// <summary>What a fuzz run found.</summary>
public sealed record FuzzReport(
    int Cases,
    int Succeeded,
    int Rejected,
    IReadOnlyDictionary<string, int> RejectionsByCode,
    IReadOnlyList<FuzzFailure> Failures,
    TimeSpan Elapsed,
    TimeSpan SlowestCase,
    string SlowestCaseName);

/// <summary>
/// Runs deterministic mutations of sample files through the imaging pipeline in-process. The rule
/// under test: every case either makes a thumbnail or ends in <see cref="ImageRejectedException"/>;
/// anything else (another exception, or no answer within <c>hangAfter</c>) is a failure.
/// Shared by the in-suite fuzz test and the long-run console in tools/.
/// </summary>
public static class PipelineFuzzer
{
    /// <summary>hostile/resources/, relative to the sample folder.</summary>
    private static readonly string ResourceAttacks = Path.Combine("hostile", "resources") + Path.DirectorySeparatorChar;

    public static async Task<FuzzReport> RunAsync(
        IReadOnlyList<string> files, int cases, int seed, TimeSpan hangAfter, ImagingLimits limits,
        Action<int>? progress = null)
    {
        var originals = files.Select(File.ReadAllBytes).ToArray();
        var pipeline = new ThumbnailPipeline(limits);
        var failures = new ConcurrentBag<FuzzFailure>();
        var codes = new ConcurrentDictionary<string, int>();
        int succeeded = 0, rejected = 0, finished = 0;
        var slowest = (Ticks: 0L, Name: "");
        var slowestLock = new object();
        var clock = Stopwatch.StartNew();

        await Parallel.ForEachAsync(Enumerable.Range(0, cases), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (number, _) =>
        {
            var fileIndex = number % files.Count;
            var (bytes, mutation) = ImageMutator.Mutate(originals[fileIndex], seed, number);
            var spec = SpecFor(seed, number);
            var name = Path.GetFileName(files[fileIndex]);
            var started = Stopwatch.GetTimestamp();
            var work = Task.Run(() => pipeline.Create(new MemoryStream(bytes), spec));
            try
            {
                await work.WaitAsync(hangAfter);
                Interlocked.Increment(ref succeeded);
            }
            catch (ImageRejectedException rejection)
            {
                Interlocked.Increment(ref rejected);
                codes.AddOrUpdate(rejection.Code, 1, (_, count) => count + 1);
            }
            catch (TimeoutException)
            {
                failures.Add(new FuzzFailure(name, number, mutation, $"no answer after {hangAfter.TotalSeconds:F0} s"));
            }
            catch (Exception escaped)
            {
                failures.Add(new FuzzFailure(name, number, mutation, $"{escaped.GetType().FullName}: {escaped.Message}"));
            }

            var elapsed = Stopwatch.GetTimestamp() - started;
            lock (slowestLock)
            {
                if (elapsed > slowest.Ticks)
                {
                    slowest = (elapsed, $"{name} case {number} ({mutation})");
                }
            }

            var count = Interlocked.Increment(ref finished);
            progress?.Invoke(count);
        });

        return new FuzzReport(cases, succeeded, rejected, new SortedDictionary<string, int>(codes),
            failures.OrderBy(f => f.Case).ToList(), clock.Elapsed, Stopwatch.GetElapsedTime(0, slowest.Ticks), slowest.Name);
    }

    /// <summary>
    /// Every file under <paramref name="folder"/> that is not documentation or a script, except the
    /// resource attacks of hostile/resources/ (issue 11): each is made to cost gigabytes or minutes
    /// to decode, so the tests that name them use them one by one, not in this sweep.
    /// </summary>
    public static IReadOnlyList<string> SampleFiles(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(path => Path.GetExtension(path) is not (".md" or ".json" or ".py" or ".sh"))
            .Where(path => !Path.GetRelativePath(folder, path).StartsWith(ResourceAttacks, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>A small random box, fit and output format per case, so every step of the pipeline is exercised.</summary>
    private static ThumbnailSpec SpecFor(int seed, int number)
    {
        var random = new Random(unchecked(seed * 31 + number));
        return new ThumbnailSpec(
            random.Next(4) == 0 ? random.Next(1, 9) : random.Next(16, 161),
            random.Next(4) == 0 ? random.Next(1, 9) : random.Next(16, 161),
            (FitMode)random.Next(4),
            (OutputFormat)random.Next(4));
    }
}
