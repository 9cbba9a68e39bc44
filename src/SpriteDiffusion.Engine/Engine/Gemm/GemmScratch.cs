using System.Runtime.CompilerServices;

namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// Per-thread packing buffers: several engine workers multiply at once, so nothing here may be
/// shared. Buffers only grow, which makes every call after the first of a given size allocation-free.
/// They live on the pinned object heap, so the raw pointers stay valid and die with the thread.
/// </summary>
internal sealed unsafe class GemmScratch
{
    // Vector stores of a 6-wide panel spill a few floats past the panel end; the slack absorbs them.
    const int SlackFloats = 64;
    const int AlignFloats = 16;

    [ThreadStatic] static GemmScratch? current;

    public static GemmScratch ForThisThread => current ??= new GemmScratch();

    float[]? aRaw, bRaw;
    float* a, b;
    int aCapacity, bCapacity;

    /// <summary>Tile used for partial micro-tiles at the edges of C, sized for the largest kernel.</summary>
    public readonly float* Tile;
    readonly float[] tileRaw;

    GemmScratch()
    {
        tileRaw = GC.AllocateUninitializedArray<float>(Math.Max(Kernel8x32.MR * Kernel8x32.NR, Kernel16x16.MR * Kernel16x16.NR) + AlignFloats, pinned: true);
        Tile = Align(tileRaw);
    }

    public float* PackedA(int floats) => floats <= aCapacity ? a : Grow(ref aRaw, ref a, ref aCapacity, floats);

    public float* PackedB(int floats) => floats <= bCapacity ? b : Grow(ref bRaw, ref b, ref bCapacity, floats);

    static float* Grow(ref float[]? raw, ref float* aligned, ref int capacity, int floats)
    {
        raw = GC.AllocateUninitializedArray<float>(floats + SlackFloats + AlignFloats, pinned: true);
        aligned = Align(raw);
        capacity = floats;
        return aligned;
    }

    static float* Align(float[] raw)
    {
        nuint address = (nuint)Unsafe.AsPointer(ref raw[0]);
        return (float*)((address + 63) & ~(nuint)63);
    }
}
