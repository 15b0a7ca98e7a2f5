namespace ThumbnailApi.Tests.Support;

/// <summary>Files of the repository itself (not the copies next to the test assembly).</summary>
public static class RepositoryFiles
{
    /// <summary>The folder holding ThumbnailApi.slnx, found upwards from the test assembly.</summary>
    public static string Root { get; } = FindRoot();

    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(folder.FullName, "ThumbnailApi.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("ThumbnailApi.slnx not found above " + AppContext.BaseDirectory);
    }
}
