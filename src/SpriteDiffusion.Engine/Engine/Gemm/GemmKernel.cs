namespace SpriteDiffusion.Engine.Gemm;

/// <summary>
/// A micro-kernel pair with the blocking that suits it: Run covers MR x NR tiles, RunNarrow the
/// MR2 x NR tiles of leftover rows. kc bounds the k-slice so that one B micro-panel (kc x NR)
/// stays in L1 while the kernel sweeps the A block (mc x kc) from L2; nc bounds the packed B block.
/// </summary>
internal readonly unsafe struct GemmKernel(
    string name, int mr, int mr2, int nr, int kc, int mc, int nc,
    delegate*<int, float*, nint, nint, float*, nint, float*, nint, bool, void> run,
    delegate*<int, float*, nint, nint, float*, nint, float*, nint, bool, void> runNarrow)
{
    public readonly string Name = name;
    public readonly int MR = mr, MR2 = mr2, NR = nr, KC = kc, MC = mc, NC = nc;
    public readonly delegate*<int, float*, nint, nint, float*, nint, float*, nint, bool, void> Run = run;
    public readonly delegate*<int, float*, nint, nint, float*, nint, float*, nint, bool, void> RunNarrow = runNarrow;

    public static GemmKernel Avx512 => new("avx512-8x32", Kernel8x32.MR, Kernel4x32.MR, Kernel8x32.NR,
        128, 128, 2048, &Kernel8x32.Run, &Kernel4x32.Run);

    public static GemmKernel Avx512Narrow => new("avx512-16x16", Kernel16x16.MR, Kernel8x16.MR, Kernel16x16.NR,
        256, 128, 2048, &Kernel16x16.Run, &Kernel8x16.Run);

    public static GemmKernel Avx2 => new("avx2-6x16", Kernel6x16.MR, Kernel4x16.MR, Kernel6x16.NR,
        256, 144, 2048, &Kernel6x16.Run, &Kernel4x16.Run);

    public static GemmKernel Scalar => new("scalar-4x4", KernelScalar.MR, KernelScalar.MR, KernelScalar.NR,
        256, 64, 1024, &KernelScalar.Run, &KernelScalar.Run);
}
