using System.Runtime.InteropServices;

namespace SpriteDiffusion.Cli;

/// <summary>Turns Ctrl-C and SIGTERM into a cancellation the long-running commands honour, so they can save first.</summary>
internal sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration _term;

    public Interrupt()
    {
        Console.CancelKeyPress += OnCancel;
        _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; _source.Cancel(); });
    }

    public CancellationToken Token => _source.Token;

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (_source.IsCancellationRequested) return; // a second Ctrl-C ends the process at once
        e.Cancel = true;
        _source.Cancel();
    }

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _term.Dispose();
        _source.Dispose();
    }
}
