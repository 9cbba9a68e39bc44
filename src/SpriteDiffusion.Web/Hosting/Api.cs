using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace SpriteDiffusion.Web.Hosting;

/// <summary>How every endpoint answers: JSON in the page's camelCase, errors as {"error": "..."} in words.</summary>
internal static class Api
{
    // Answers are JSON or event streams sent with nosniff, never HTML, so escaping '+' and '&' for
    // HTML would only bloat the base64 preview frames and the class names.
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static IResult Error(int status, string message, string? field = null) =>
        Results.Json(new ErrorBody(message, field), Json, statusCode: status);

    public static IResult NotFound(string message) => Error(StatusCodes.Status404NotFound, message);

    public static IResult Ok(object value) => Results.Json(value, Json);

    /// <summary>The body of every error answer; field names the form field at fault, when one is.</summary>
    public sealed record ErrorBody(string Error, string? Field);

    /// <summary>
    /// A whole-number query parameter within bounds, or its default when absent; anything else is a
    /// 400 that names the parameter, so a typo in a hand-written URL is explained rather than ignored.
    /// </summary>
    public static int IntQuery(HttpRequest request, string name, int fallback, int min, int max)
    {
        string? text = request.Query[name];
        if (text is null) return fallback;
        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int value) || value < min || value > max)
            throw new Generation.BadRequest($"{name} must be a whole number from {min} to {max} (got '{text}').", name);
        return value;
    }
}
