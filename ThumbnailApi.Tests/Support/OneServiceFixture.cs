namespace ThumbnailApi.Tests.Support;

/// <summary>
/// A fixture whose tests share one service with the default settings, on its own temporary data
/// folder, started before the first test and stopped after the last. A derived fixture may add its
/// own [OneTimeSetUp] (NUnit runs this one first).
/// </summary>
public abstract class OneServiceFixture
{
    protected ThumbnailApiFactory Factory { get; private set; } = null!;

    protected ApiClient Client { get; private set; } = null!;

    [OneTimeSetUp]
    public void StartService()
    {
        Factory = new ThumbnailApiFactory();
        Client = Factory.CreateApiClient();
    }

    [OneTimeTearDown]
    public void StopService()
    {
        Client.Dispose();
        Factory.Dispose();
    }
}
