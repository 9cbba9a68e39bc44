namespace SpriteDiffusion.Cli;

/// <summary>
/// A mistake in how the command line was used (flags that do not go together, a missing value).
/// Printed without a stack trace; the library's own argument and data exceptions are printed the
/// same way through <see cref="ErrorMessages"/>.
/// </summary>
internal sealed class UserError : Exception
{
    public UserError(string message) : base(message) { }
    public UserError(string message, Exception inner) : base(message, inner) { }
}
