namespace SpriteDiffusion.Web.Generation;

/// <summary>
/// First come, first served admission of generations: a fixed number run, a fixed number wait in
/// order, and anything beyond is refused at once, so a burst of requests costs the machine no more
/// than the slots allow and every caller learns where it stands.
/// </summary>
internal sealed class GenerationQueue(int slots, int maxWaiting, Action? onIdle = null)
{
    private readonly object _gate = new();
    private readonly LinkedList<Ticket> _waiting = new();
    private int _running;
    private long _completed, _cancelled, _failed, _refused;

    /// <summary>A place in the queue; disposing it gives up the place or the slot.</summary>
    public sealed class Ticket : IDisposable
    {
        private readonly GenerationQueue _queue;
        internal readonly TaskCompletionSource Turn = new(TaskCreationOptions.RunContinuationsAsynchronously);
        internal LinkedListNode<Ticket>? Node;
        internal bool Running, Released;

        internal Ticket(GenerationQueue queue) => _queue = queue;

        /// <summary>How the generation ended, for the counters; Cancelled unless set.</summary>
        public Outcome Result { get; set; } = Outcome.Cancelled;

        public void Dispose() => _queue.Release(this);
    }

    /// <summary>How a generation ended.</summary>
    public enum Outcome { Completed, Cancelled, Failed }

    /// <summary>A snapshot for GET /api/queue and the page's queue indicator.</summary>
    public sealed record State(int Running, int Waiting, int Slots, int MaxWaiting, long Completed, long Cancelled, long Failed, long Refused);

    public State Snapshot()
    {
        lock (_gate) return new(_running, _waiting.Count, slots, maxWaiting, _completed, _cancelled, _failed, _refused);
    }

    /// <summary>A place in the queue, or null when every slot and every waiting place is taken.</summary>
    public Ticket? TryEnter()
    {
        lock (_gate)
        {
            var ticket = new Ticket(this);
            if (_running < slots && _waiting.Count == 0)
            {
                _running++;
                ticket.Running = true;
                ticket.Turn.SetResult();
                return ticket;
            }
            if (_waiting.Count >= maxWaiting)
            {
                _refused++;
                return null;
            }
            ticket.Node = _waiting.AddLast(ticket);
            return ticket;
        }
    }

    /// <summary>1 for the next to run, 0 once running.</summary>
    public int PositionOf(Ticket ticket)
    {
        lock (_gate)
        {
            if (ticket.Running || ticket.Node is null) return 0;
            int position = 1;
            for (var n = _waiting.First; n is not null && n != ticket.Node; n = n.Next) position++;
            return position;
        }
    }

    private void Release(Ticket ticket)
    {
        lock (_gate)
        {
            if (ticket.Released) return;
            ticket.Released = true;
            if (ticket.Node is not null)
            {
                _waiting.Remove(ticket.Node);
                ticket.Node = null;
                _cancelled++;
                return;
            }
            if (!ticket.Running) return;
            _running--;
            switch (ticket.Result)
            {
                case Outcome.Completed: _completed++; break;
                case Outcome.Failed: _failed++; break;
                default: _cancelled++; break;
            }
            while (_running < slots && _waiting.First is { } next)
            {
                _waiting.RemoveFirst();
                next.Value.Node = null;
                next.Value.Running = true;
                _running++;
                next.Value.Turn.SetResult();
            }
            if (_running == 0 && onIdle is not null) ThreadPool.QueueUserWorkItem(_ => onIdle());
        }
    }

    /// <summary>Whether nothing runs or waits.</summary>
    public bool IsIdle
    {
        get { lock (_gate) return _running == 0 && _waiting.Count == 0; }
    }
}
