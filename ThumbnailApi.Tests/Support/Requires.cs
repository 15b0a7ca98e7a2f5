namespace ThumbnailApi.Tests.Support;

/// <summary>
/// What a test needs from the machine, as one call at its start: PostgreSQL or nginx from Debian's
/// packages, s3rver from npm. Where they are missing the test is skipped with a message saying how to get them,
/// except in CI (CI=true), where .ci/run installs them and a missing one is a failure.
/// </summary>
public static class Requires
{
    /// <summary>The PostgreSQL server shared by the test run, started on first use.</summary>
    public static PostgresServer Postgres()
    {
        if (PostgresBinaries.Find() is null)
        {
            Unavailable("The PostgreSQL server programs (initdb, pg_ctl) were not found by pg_config --bindir nor in /usr/lib/postgresql/*/bin, "
                + "so this test cannot run: apt-get install postgresql (Debian; .ci/run installs it when missing). "
                + "The tests start and stop their own server on a loopback port; nothing needs to be running.");
        }

        return PostgresServer.Shared;
    }

    /// <summary>The S3-compatible server (s3rver) shared by the test run, started on first use.</summary>
    public static S3Server S3()
    {
        if (S3Server.FindProgram() is null)
        {
            Unavailable("s3rver (an S3 emulator from npm) or node was not found ($S3RVER, .tools/s3rver/node_modules/.bin/s3rver, PATH), "
                + "so this test cannot run: npm install --prefix .tools/s3rver s3rver@3.7.1 (.ci/run does it when missing). "
                + "The tests start and stop their own server on a loopback port; nothing needs to be running.");
        }

        return S3Server.Shared;
    }

    /// <summary>The nginx program.</summary>
    public static string Nginx()
    {
        if (!File.Exists(NginxProxy.Program))
        {
            Unavailable($"{NginxProxy.Program} is not installed, so this test cannot run: apt-get install nginx (Debian; .ci/run installs it when missing). "
                + "The tests start their own nginx on a loopback port; no system service is needed.");
        }

        return NginxProxy.Program;
    }

    private static void Unavailable(string reason)
    {
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.Fail(reason);
        }

        Assert.Ignore(reason);
    }
}
