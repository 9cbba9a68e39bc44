using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace SpriteDiffusion.Web.Hosting;

/// <summary>
/// A Server-Sent Events response (text/event-stream), written event by event and flushed at once.
/// The page reads it through fetch rather than EventSource, so that a refusal (400, 429) arrives
/// as a readable answer and leaving the page aborts the request.
/// </summary>
internal sealed class EventStream
{
    private readonly HttpResponse _response;
    private readonly CancellationToken _cancel;

    private EventStream(HttpResponse response, CancellationToken cancel)
    {
        _response = response;
        _cancel = cancel;
    }

    public static async Task<EventStream> StartAsync(HttpContext http, CancellationToken cancel)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await response.StartAsync(cancel);
        return new EventStream(response, cancel);
    }

    public async Task SendAsync(string name, object data)
    {
        string json = JsonSerializer.Serialize(data, Api.Json);
        await _response.WriteAsync($"event: {name}\ndata: {json}\n\n", Encoding.UTF8, _cancel);
        await _response.Body.FlushAsync(_cancel);
    }
}
