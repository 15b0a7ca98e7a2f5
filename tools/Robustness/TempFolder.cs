using Microsoft.Data.Sqlite;

namespace ThumbnailApi.Robustness;

public static class TempFolder
{
    public static void Delete(string path)
    {
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
