using Microsoft.Extensions.Options;

namespace ThumbnailApi.Persistence;

/// <summary>How long a finished task is kept (<see cref="ServiceOptions.RetentionDays"/>; 0 keeps it forever).</summary>
public sealed class RetentionPolicy(IOptions<ServiceOptions> options)
{
    /// <summary>Age, counted from completion, after which a finished task is removed; null when kept forever.</summary>
    public TimeSpan? Age { get; } = options.Value.RetentionDays > 0 ? TimeSpan.FromDays(options.Value.RetentionDays) : null;

    /// <summary>When the task will be removed; null while it is pending or when tasks are kept forever.</summary>
    public DateTimeOffset? ExpiresAt(TaskRecord task) =>
        Age is { } age && task.IsFinished && task.CompletedAt is { } completed
            ? DateTimeOffset.FromUnixTimeMilliseconds(completed) + age
            : null;
}
