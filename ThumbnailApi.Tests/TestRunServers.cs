using ThumbnailApi.Tests.Support;

namespace ThumbnailApi.Tests;

/// <summary>Stops the servers shared by the test run (PostgreSQL, s3rver) after the last test of this namespace and those below it.</summary>
[SetUpFixture]
public sealed class TestRunServers
{
    [OneTimeTearDown]
    public void StopSharedServers()
    {
        PostgresServer.StopShared();
        S3Server.StopShared();
    }
}
