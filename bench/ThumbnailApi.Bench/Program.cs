using ThumbnailApi.Bench;

// Benchmarks that print figures (never timed unit tests). See bench/README.md.
//   pipeline [--runs N] FILE...            per-file time, managed allocation, peak RSS (one child process per file)
//   one [--runs N] FILE                    (internal) measure one file in this process, print one JSON line
//   inspect FILE...                        the header check alone: memory a thumbnail would reserve, or the refusal
//   survey OUTDIR FILE...                  thumbnails in one process, one line per file: written, or the refusal
//   single IN OUT                          one thumbnail (for bench/peers/bench_peers.sh --tool)
//   --batch OUTDIR EXT INPUT...            thumbnails in one process, prints PERIMAGE_MS [..] (--batch-tool)
//   load --url URL --file FILE [-n 50] [-c 4] [--pid PID] [--fields k=v,...] [--identical]   service load benchmark
return args switch
{
    ["pipeline", .. var rest] => PipelineBenchmark.Run(rest),
    ["one", .. var rest] => PipelineBenchmark.RunOne(rest),
    ["inspect", .. var rest] => InspectCommand.Run(rest),
    ["survey", var outDir, .. var files] => SurveyCommand.Run(outDir, files),
    ["single", var input, var output] => BatchMode.Single(input, output),
    ["--batch", var outDir, var ext, .. var inputs] => BatchMode.Batch(outDir, ext, inputs),
    ["load", .. var rest] => await LoadBenchmark.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: pipeline [--runs N] FILE... | inspect FILE... | survey OUTDIR FILE... | single IN OUT | --batch OUTDIR EXT INPUT... | load --url URL --file FILE [-n N] [-c C] [--pid PID] [--identical]");
    return 2;
}
