using Microsoft.Extensions.DependencyInjection;
using ThumbnailApi.Imaging;
using ThumbnailApi.Processing;

namespace ThumbnailApi.Tests.Support;

/// <summary>
/// The service with a <see cref="GatedThumbnailer"/>: tasks stop inside the pipeline until the test
/// opens the gate. Disposing opens it first, so shutting down never waits for a held task.
/// </summary>
public sealed class GatedService : IDisposable
{
    public GatedService(IReadOnlyDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        Factory = new ThumbnailApiFactory(settings, s =>
        {
            s.AddSingleton<IThumbnailer>(Gate);
            services?.Invoke(s);
        });
        Client = Factory.CreateApiClient();
    }

    public GatedThumbnailer Gate { get; } = new();

    public ThumbnailApiFactory Factory { get; }

    public ApiClient Client { get; }

    public TaskCompletionSignals Signals => Factory.Services.GetRequiredService<TaskCompletionSignals>();

    /// <summary>Uploads an image and waits until a worker holds it at the gate.</summary>
    public async Task<string> UploadHeldAsync(string image)
    {
        var id = await Client.UploadAsync(TestImages.Path(image));
        await Gate.WaitUntilHeldAsync();
        return id;
    }

    /// <summary>Waits until this many status requests are parked waiting (<c>?wait=</c>).</summary>
    public async Task WaitersAsync(int count)
    {
        Assert.That(await Eventually.TrueAsync(() => Signals.WaiterCount == count, TimeSpan.FromSeconds(30)), Is.True,
            $"{Signals.WaiterCount} of {count} requests are waiting");
    }

    public void Dispose()
    {
        Gate.Open();
        Client.Dispose();
        Factory.Dispose();
        Gate.Dispose();
    }
}
