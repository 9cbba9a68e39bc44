namespace SpriteDiffusion;

/// <summary>
/// A problem the user can fix (bad file, bad flag, missing input). The CLI prints its message
/// without a stack trace and exits non-zero; anything else reaching the top level is a bug.
/// </summary>
public sealed class UserError : Exception
{
    public UserError(string message) : base(message) { }
    public UserError(string message, Exception inner) : base(message, inner) { }
}
