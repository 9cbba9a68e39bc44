namespace SpriteDiffusion.IO.Pth;

/// <summary>
/// The messages of the .pth reader, written once so that every failure names the file, says what
/// was wrong and what the reader of the message can do about it.
/// </summary>
internal sealed class PthErrors(string file)
{
    public string File { get; } = file;

    /// <summary>Names, keys and paths taken from the file, as shown in messages.</summary>
    private const int MaxShown = 80;

    /// <summary>
    /// A string from the file made safe to print: control and invisible formatting characters
    /// escaped, so a damaged or hostile name cannot garble a terminal, and cut to a readable length.
    /// </summary>
    public static string Show(string text)
    {
        var shown = new System.Text.StringBuilder();
        foreach (char c in text.Length > MaxShown ? text[..MaxShown] : text)
        {
            var category = char.GetUnicodeCategory(c);
            if (char.IsControl(c) || category is System.Globalization.UnicodeCategory.Format or System.Globalization.UnicodeCategory.Surrogate)
                shown.Append($"\\u{(int)c:x4}");
            else
                shown.Append(c);
        }
        if (text.Length > MaxShown) shown.Append($"... ({text.Length} characters)");
        return shown.ToString();
    }

    public InvalidDataException Damaged(string detail, Exception? inner = null) =>
        new($"{File}: {detail}. The file is damaged or truncated: copy or download it again, or save it again with torch.save.", inner);

    public InvalidDataException NotStateDict(string detail) =>
        new($"{File}: {detail}. Only a state dict saved with torch.save(model.state_dict(), path) can be read, that is a dict from names to tensors; save the model's state_dict() on its own.");

    public InvalidDataException TooLarge(string detail) =>
        new($"{File}: {detail}, more than this reader accepts. A sprite model's checkpoint is far smaller; if the file is really this large, convert it to safetensors in PyTorch instead.");

    public InvalidDataException Forbidden(string global, string where) =>
        new($"{File}: {where} names the Python global '{global}', which is not part of a PyTorch state dict. Reading stopped there and nothing from the file was run. " +
            "The file was not written by torch.save(model.state_dict(), path), or was made to run code when Python loads it: do not open it with torch.load either. " +
            $"Only these globals are accepted: {string.Join(", ", PickleGlobal.Allowed.Keys.Select(k => k.Replace(' ', '.')))}.");

    public InvalidDataException Unsupported(string detail) =>
        new($"{File}: {detail}. Load the file in PyTorch and save its state dict again with torch.save(model.state_dict(), path), or convert it to safetensors.");
}
