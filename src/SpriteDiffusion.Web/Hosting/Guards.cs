using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using SpriteDiffusion.Web.Generation;

namespace SpriteDiffusion.Web.Hosting;

/// <summary>
/// What every request passes through: security headers on every answer, a Host check that keeps a
/// loopback playground from answering pages of other sites (DNS rebinding), and refusals and
/// failures turned into JSON in words rather than stack traces.
/// </summary>
internal static class Guards
{
    /// <summary>No inline script or style, nothing from elsewhere, never inside another site's frame.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static async Task Headers(HttpContext http, Func<Task> next)
    {
        var h = http.Response.Headers;
        h.ContentSecurityPolicy = ContentSecurityPolicy;
        h.XContentTypeOptions = "nosniff";
        h.XFrameOptions = "DENY";
        h["Referrer-Policy"] = "no-referrer";
        h["Cross-Origin-Opener-Policy"] = "same-origin";
        h["Cross-Origin-Resource-Policy"] = "same-origin";
        if (http.Request.Path.StartsWithSegments("/api")) h.CacheControl = "no-store";
        await next();
    }

    public static Func<HttpContext, Func<Task>, Task> HostCheck(PlaygroundOptions options) => async (http, next) =>
    {
        string host = http.Request.Host.Host;
        if (!options.AllowRemote && !PlaygroundOptions.IsLoopback(host))
        {
            await Api.Error(StatusCodes.Status400BadRequest,
                $"this playground answers only to addresses of this machine (localhost, 127.0.0.1), not to '{host}'.").ExecuteAsync(http);
            return;
        }
        await next();
    };

    public static async Task Errors(HttpContext http, Func<Task> next, ILogger log)
    {
        try
        {
            await next();
        }
        catch (BadRequest e) when (!http.Response.HasStarted)
        {
            await Api.Error(e.Status, e.Message, e.Field).ExecuteAsync(http);
        }
        catch (NotFound e) when (!http.Response.HasStarted)
        {
            await Api.NotFound(e.Message).ExecuteAsync(http);
        }
        catch (Exception e) when (e is not OperationCanceledException && !http.Response.HasStarted)
        {
            log.LogError(e, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
            await Api.Error(StatusCodes.Status500InternalServerError,
                $"the server failed ({e.GetType().Name}: {e.Message}); its console has the details.").ExecuteAsync(http);
        }
    }
}
