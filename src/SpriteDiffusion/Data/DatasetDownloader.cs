using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using SpriteDiffusion.IO;

namespace SpriteDiffusion.Data;

/// <summary>A file to fetch and the array it must hold before it is accepted.</summary>
/// <param name="Name">The file's name, both on the server (after the base URL) and on disk.</param>
/// <param name="Shape">The .npy shape it must have.</param>
/// <param name="DTypes">The element types it may have.</param>
public sealed record DownloadFile(string Name, int[] Shape, params NpyDType[] DTypes);

/// <summary>How far one file's download has got.</summary>
/// <param name="FileName">The file's name, without the folder.</param>
/// <param name="BytesDone">Bytes on disk so far, including any kept from an earlier, interrupted run.</param>
/// <param name="TotalBytes">The file's size, when the server says it.</param>
public readonly record struct DownloadProgress(string FileName, long BytesDone, long? TotalBytes);

/// <summary>What <see cref="DatasetDownloader"/> fetches, from where, and how patiently.</summary>
public sealed record DownloadOptions
{
    /// <summary>The public mirror the seed reads, pinned to one revision so the bytes cannot change under us.</summary>
    public const string DefaultBaseUrl =
        "https://huggingface.co/datasets/ashis-palai/sprites_image_dataset/resolve/a24918819843abc0d1bee75a239024415081a87d/";

    /// <summary>The seed's two files: 89,400 16x16 RGB sprites (uint8) and their five one-hot label columns.</summary>
    public static readonly IReadOnlyList<DownloadFile> OriginalFiles =
    [
        new(SpriteDataset.OriginalImagesFileName, [89400, 16, 16, 3], NpyDType.UInt8),
        new(SpriteDataset.OriginalLabelsFileName, [89400, 5], NpyDType.Float64, NpyDType.Float32, NpyDType.Int64),
    ];

    /// <summary>The course's names for the five one-hot columns, in order.</summary>
    public static readonly string[] OriginalClassNames = ["hero", "non-hero", "food", "spell", "side-facing"];

    /// <summary>The folder URL each file name is appended to (a missing final '/' is added).</summary>
    public string BaseUrl { get; init; } = DefaultBaseUrl;
    /// <summary>The files to fetch, each with the shape and element types it must have.</summary>
    public IReadOnlyList<DownloadFile> Files { get; init; } = OriginalFiles;
    /// <summary>Written as classes.txt when the folder has none; null writes none.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; } = OriginalClassNames;
    /// <summary>Tries per file; a dropped connection resumes from the bytes already on disk.</summary>
    public int Attempts { get; init; } = 5;
    /// <summary>The wait before the second try; it grows linearly with each further try.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>A connection that sends nothing for this long counts as dropped.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>A server that accepts the connection but sends no response headers for this long counts as dropped.</summary>
    public TimeSpan HeadersTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Fetches the original data set: each file goes to "name.part" (resumed with an HTTP Range
/// request if a previous run was cut off), is checked as a .npy of the expected shape and dtype,
/// and only then renamed to its real name.
/// </summary>
public sealed class DatasetDownloader(DownloadOptions options, IProgress<DownloadProgress>? progress = null, Action<string>? log = null)
{
    /// <summary>Appended to a file's name while it downloads; a later run resumes from it.</summary>
    public const string PartSuffix = ".part";

    /// <summary>
    /// Fetches every file into <paramref name="outDir"/> (created if needed, with a .gitignore that
    /// ignores everything), skipping those already complete, then writes classes.txt if missing.
    /// Throws <see cref="IOException"/> when the server cannot be reached or keeps breaking off, and
    /// <see cref="InvalidDataException"/> when a file is not the expected array.
    /// </summary>
    public async Task DownloadAsync(string outDir, CancellationToken cancellation = default)
    {
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var baseUri) || baseUri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"'{options.BaseUrl}' is not an http:// or https:// address; the files are fetched over HTTP(S) only.", nameof(DownloadOptions.BaseUrl));
        AtomicFile.CreateFolder(outDir);
        // The files are large and not ours to redistribute: keep them out of any git checkout they land in.
        string ignore = Path.Combine(outDir, ".gitignore");
        if (!File.Exists(ignore)) AtomicFile.WriteAllText(ignore, "*\n");

        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = true,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("SpriteDiffusion/1.0");

        foreach (var file in options.Files)
            await FetchAsync(client, file, outDir, cancellation);

        if (options.ClassNames is { } names)
        {
            string classes = Path.Combine(outDir, ClassNamesFile.FileName);
            if (!File.Exists(classes)) ClassNamesFile.Write(classes, names);
        }
    }

    private async Task FetchAsync(HttpClient client, DownloadFile file, string outDir, CancellationToken cancellation)
    {
        string final = Path.Combine(outDir, file.Name);
        if (File.Exists(final))
        {
            if (Check(final, file) is not { } problem)
            {
                log?.Invoke($"{file.Name} is already here and complete.");
                long size = Length(final);
                progress?.Report(new DownloadProgress(file.Name, size, size));
                return;
            }
            log?.Invoke($"{final}: {problem}; downloading it again.");
        }

        string part = final + PartSuffix;
        long limit = MaxBytes(file);
        if (Length(part) > limit) TryDelete(part); // a part longer than the file can be is not its beginning
        var url = new Uri(new Uri(options.BaseUrl.EndsWith('/') ? options.BaseUrl : options.BaseUrl + "/"), file.Name);
        for (int attempt = 1; ; attempt++)
        {
            bool complete;
            try
            {
                complete = await TryOnceAsync(client, url, file.Name, part, limit, cancellation);
            }
            catch (DroppedException e) when (attempt < options.Attempts)
            {
                log?.Invoke($"{file.Name}: the connection dropped ({e.Message}) at {Length(part):N0} bytes; resuming (try {attempt + 1} of {options.Attempts}).");
                await Task.Delay(options.RetryDelay * attempt, cancellation);
                continue;
            }
            catch (DroppedException e)
            {
                throw new IOException($"{url}: the download kept breaking off ({e.Message}). {Length(part):N0} bytes are kept in {part}; run the command again to resume.");
            }
            if (complete) break;
        }

        if (Check(part, file) is { } why)
        {
            TryDelete(part);
            throw new InvalidDataException($"{url}: the server sent something that is not the expected file ({why}). Nothing was kept; check the base URL.");
        }
        File.Move(part, final, overwrite: true);
        log?.Invoke($"{file.Name}: downloaded and checked.");
    }

    /// <summary>One request; true when the .part file now holds the whole resource.</summary>
    private async Task<bool> TryOnceAsync(HttpClient client, Uri url, string name, string part, long limit, CancellationToken cancellation)
    {
        long offset = Length(part);
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);

        HttpResponseMessage response;
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        headers.CancelAfter(options.HeadersTimeout);
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token);
        }
        catch (HttpRequestException e) when (IsUnreachable(e))
        {
            throw new IOException($"Cannot reach {url.Host} ({e.Message}): there seems to be no network here. " +
                $"Copy {string.Join(" and ", options.Files.Select(f => f.Name))} into the data folder by hand, or use the bundled data set (data/twemoji16).", e);
        }
        catch (HttpRequestException e) { throw new DroppedException(e.Message); }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new DroppedException($"no response headers within {options.HeadersTimeout.TotalSeconds:0.#} s");
        }

        using (response)
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The part already reaches the end, or is longer than the file: decide by the total length.
                long? total = response.Content.Headers.ContentRange?.Length;
                if (total == offset) return true;
                TryDelete(part);
                throw new DroppedException("the partial file did not fit the server's; starting again");
            }
            if ((int)response.StatusCode >= 500)
                throw new DroppedException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
            if (!response.IsSuccessStatusCode)
                throw new IOException($"{url}: the server answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}. Check the base URL.");

            bool append = response.StatusCode == HttpStatusCode.PartialContent
                && response.Content.Headers.ContentRange?.From == offset;
            if (!append) offset = 0; // the server sent the whole file; a stale part is replaced
            long? length = response.Content.Headers.ContentLength;
            long? expectedTotal = length is long l ? offset + l : null;
            if (expectedTotal > limit)
                throw TooLong(url, part, expectedTotal.Value, limit);

            using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
            await using var output = new FileStream(part, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            long done = offset;
            progress?.Report(new DownloadProgress(name, done, expectedTotal));
            try
            {
                await using var body = await response.Content.ReadAsStreamAsync(cancellation);
                var buffer = new byte[1 << 16];
                long lastReport = done;
                while (true)
                {
                    stall.CancelAfter(options.StallTimeout);
                    int n = await body.ReadAsync(buffer, stall.Token);
                    if (n == 0) break;
                    if (done + n > limit)
                    {
                        await output.DisposeAsync();
                        throw TooLong(url, part, done + n, limit);
                    }
                    await output.WriteAsync(buffer.AsMemory(0, n), cancellation);
                    done += n;
                    if (done - lastReport >= 1 << 18)
                    {
                        progress?.Report(new DownloadProgress(name, done, expectedTotal));
                        lastReport = done;
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
            {
                throw new DroppedException($"nothing arrived for {options.StallTimeout.TotalSeconds:0} s");
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                throw new DroppedException(e.Message);
            }
            progress?.Report(new DownloadProgress(name, done, expectedTotal ?? done));
            if (expectedTotal is long t && done < t)
                throw new DroppedException($"the server stopped after {done:N0} of {t:N0} bytes");
            return true;
        }
    }

    /// <summary>The most bytes the file can have: its array at the widest allowed element type, and a generous header.</summary>
    internal static long MaxBytes(DownloadFile file) =>
        64 * 1024 + file.Shape.Aggregate(1L, (a, d) => a * d) * file.DTypes.Max(d => d.ItemSize());

    private static InvalidDataException TooLong(Uri url, string part, long bytes, long limit)
    {
        TryDelete(part);
        return new InvalidDataException($"{url}: the server sent (or announced) {bytes:N0} bytes, more than the {limit:N0} the expected file can have; nothing was kept. Check the base URL.");
    }

    /// <summary>Null when <paramref name="path"/> is a .npy of the expected shape and dtype; otherwise the problem.</summary>
    private static string? Check(string path, DownloadFile file)
    {
        NpyHeader header;
        try { header = Npy.ReadHeader(path); }
        catch (InvalidDataException e) { return e.Message; }
        if (file.DTypes.Contains(header.DType) && header.Shape.SequenceEqual(file.Shape)) return null;
        return $"it holds ({string.Join(", ", header.Shape)}) {header.DType.Name()}, not ({string.Join(", ", file.Shape)}) {string.Join(" or ", file.DTypes.Select(d => d.Name()))}";
    }

    private static bool IsUnreachable(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError
        || e.InnerException is SocketException;

    private static long Length(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private sealed class DroppedException(string message) : Exception(message);
}
