using ThumbnailApi.Robustness;

// Long robustness runs that do not fit in the test suite. The scripts next to this folder build and
// call it; each command prints its figures and exits non-zero when the rule it checks is broken.
//
//   fuzz   --images DIR --cases N [--seed S]          mutations through the imaging pipeline, in-process
//   replay --images DIR --file REL --case N [--seed S] one fuzz case again, saved to fuzz-case.bin
//   burst  --service DLL --images DIR [--multiple 4]  4x the queue capacity at once against a real process
//   kill9  --service DLL --images DIR [--uploads N] [--rounds R]  SIGKILL mid-load, restart, nothing lost
//   diskfull --service DLL --images DIR --data DIR --grow CMD     fill the disk under a real process, then grow it
//   scancost --width W --height H --scans N [--max-scans M]      what one hostile progressive JPEG costs the pipeline
//   resources --service DLL --images DIR [--cases a,b] [--quick] [--list] [--setting Key=Value ...]
//                                                    issue 11's CPU, memory and stalled-upload attacks, one process per case
//   scale-out --service DLL --images DIR [--instances 3] [--uploads 1000] [--concurrency 16] [--lease 15] [--quick] [--sections latency,kill,cpu,chaos]
//                                                    instances on a throwaway PostgreSQL behind nginx: latencies, SIGKILL, CPU, chaos
var arguments = Arguments.Parse(args.Skip(1));
return args.FirstOrDefault() switch
{
    "fuzz" => await FuzzCommand.RunAsync(arguments),
    "replay" => FuzzCommand.Replay(arguments),
    "burst" => await BurstCommand.RunAsync(arguments),
    "kill9" => await KillNineCommand.RunAsync(arguments),
    "diskfull" => await DiskFullCommand.RunAsync(arguments),
    "scancost" => ScanCostCommand.Run(arguments),
    "resources" => await ResourceAttackCommand.RunAsync(arguments),
    "scale-out" => await ScaleOutCommand.RunAsync(arguments),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Robustness fuzz|replay|burst|kill9|diskfull|scancost|resources|scale-out --name value ... (see Program.cs)");
    return 2;
}
