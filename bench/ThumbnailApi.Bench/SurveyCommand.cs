using System.Globalization;
using ThumbnailApi.Imaging;
using ThumbnailApi.Persistence;

namespace ThumbnailApi.Bench;

/// <summary>
/// Thumbnails every file in one process (default options) and prints one line per file: the output
/// written to OUTDIR, or the code and message it was refused with. For sweeping a folder of other
/// projects' test images; compare the outputs with another decoder's.
/// </summary>
public static class SurveyCommand
{
    public static int Run(string outDir, IReadOnlyList<string> files)
    {
        Directory.CreateDirectory(outDir);
        var pipeline = new ThumbnailPipeline(new ImagingLimits());
        var refused = 0;
        foreach (var file in files)
        {
            string outcome;
            try
            {
                using var input = File.OpenRead(file);
                var thumbnail = pipeline.Create(input, ThumbnailSpec.Default);
                var output = Path.Combine(outDir, $"{Path.GetFileName(file)}.{TaskFiles.ExtensionFor(thumbnail.ContentType)}");
                File.WriteAllBytes(output, thumbnail.Bytes);
                outcome = $"ok {Path.GetFileName(output)}";
            }
            catch (ImageRejectedException rejection)
            {
                refused++;
                outcome = $"{rejection.Code}: {rejection.Message}";
            }

            Console.WriteLine($"{Path.GetFileName(file)}\t{outcome}");
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{files.Count} files, {files.Count - refused} thumbnails, {refused} refused"));
        return 0;
    }
}
