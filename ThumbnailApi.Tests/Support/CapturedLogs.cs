using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ThumbnailApi.Tests.Support;

/// <summary>A logger provider that keeps every formatted line (with its exception text) for assertions.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyList<LogLine> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    public sealed record LogLine(string Category, LogLevel Level, EventId EventId, string Message, string? Exception, IReadOnlyList<KeyValuePair<string, object?>> State)
    {
        public object? this[string name] => State.FirstOrDefault(pair => pair.Key == name).Value;

        public override string ToString() => $"{Level} {Category}[{EventId.Id}] {Message} {Exception}";
    }

    private sealed class Logger(string category, ConcurrentQueue<LogLine> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            lines.Enqueue(new LogLine(category, logLevel, eventId, formatter(state, exception), exception?.ToString(), [.. values]));
        }
    }
}
