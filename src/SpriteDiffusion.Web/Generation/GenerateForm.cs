using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace SpriteDiffusion.Web.Generation;

/// <summary>The body of POST /api/generate, as the page sends it; every field may be left out.</summary>
internal sealed class GenerateForm
{
    public string? Model { get; set; }
    public string? Class { get; set; }
    public double? Guidance { get; set; }
    public string? Method { get; set; }
    public int? Steps { get; set; }
    public long? Seed { get; set; }
    public int? Count { get; set; }

    public const string Fields = "model, class, guidance, method, steps, seed and count";

    /// <summary>A form is a few hundred bytes; anything much larger is refused before it is read.</summary>
    public const int MaxBodyBytes = 16 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    /// <summary>Reads the body; a body that is not this form becomes a <see cref="BadRequest"/> in words.</summary>
    public static async Task<GenerateForm> ReadAsync(Microsoft.AspNetCore.Http.HttpRequest request, CancellationToken cancel)
    {
        if (request.ContentLength > MaxBodyBytes)
            throw new BadRequest($"the request body is {request.ContentLength} bytes; a generation form is at most {MaxBodyBytes}.", status: 413);
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancel)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
                throw new BadRequest($"the request body is over {MaxBodyBytes} bytes; a generation form is a few hundred.", status: 413);
        }
        if (buffer.Length == 0) throw new BadRequest("the request body is empty; send a JSON object with " + Fields + ".");
        try
        {
            return JsonSerializer.Deserialize<GenerateForm>(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), Json)
                ?? throw new BadRequest("the request body is null; send a JSON object with " + Fields + ".");
        }
        catch (JsonException e)
        {
            if (e.Message.Contains("could not be mapped", StringComparison.Ordinal)
                && Regex.Match(e.Message, "'([^']*)'") is { Success: true } unknown)
                throw new BadRequest($"unknown field '{unknown.Groups[1].Value}': the fields are {Fields}.");
            string field = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "";
            // A value of the wrong type names its field; broken JSON has no field to name.
            bool wrongKind = e.Message.Contains("could not be converted", StringComparison.Ordinal) && field.Length > 0;
            throw wrongKind
                ? new BadRequest($"'{field}' has a value of the wrong kind: steps, seed and count are whole numbers, guidance a number, the rest text.", field)
                : new BadRequest("the request body is not a JSON object with " + Fields + ".");
        }
    }
}

/// <summary>A request the playground refuses, with the words the page shows and the field at fault.</summary>
internal sealed class BadRequest(string message, string? field = null, int status = 400) : Exception(message)
{
    public string? Field { get; } = field;

    /// <summary>400, or 413 for a body too large to read.</summary>
    public int Status { get; } = status;
}
