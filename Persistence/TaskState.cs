namespace ThumbnailApi.Persistence;

/// <summary>The lifecycle stored in the <c>state</c> column. The API folds the first two into PENDING.</summary>
public static class TaskState
{
    public const string Queued = "queued";
    public const string Processing = "processing";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}
