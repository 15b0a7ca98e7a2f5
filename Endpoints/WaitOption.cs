using System.Globalization;

namespace ThumbnailApi.Endpoints;

/// <summary>The <c>?wait=N</c> of the status endpoint: seconds (0–30, decimals allowed) to hold the request while the task is PENDING.</summary>
public static class WaitOption
{
    public const int MaxSeconds = 30;

    /// <summary>
    /// No value means no wait; anything but a plain decimal number from 0 to 30 is invalid. double.TryParse
    /// accepts the symbols NaN and Infinity whatever the number style, so the range check must also reject them.
    /// </summary>
    public static bool TryParse(string? text, out TimeSpan wait)
    {
        wait = TimeSpan.Zero;
        if (text is null)
        {
            return true;
        }

        if (!double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            || !double.IsFinite(seconds) || seconds is < 0 or > MaxSeconds)
        {
            return false;
        }

        wait = TimeSpan.FromSeconds(seconds);
        return true;
    }

    public static JsonHttpResult<ApiError> Invalid() =>
        ApiErrors.InvalidOption("wait", $"wait must be a number of seconds from 0 to {MaxSeconds}.");
}
