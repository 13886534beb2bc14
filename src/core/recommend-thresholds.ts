// Every number the recommender decides with, in one place, each with the reason it has that value.
// The classifier keeps its own table; these only size fixes.

export const RECOMMEND_THRESHOLDS = {
  /**
   * After a kill at the limit the real peak is unknown (the reading is censored by the kill): the
   * limit in force is raised by this factor, once. Compounding it on every kill would double a
   * leaking container's limit every other day.
   */
  censoredRaise: 1.5,
  /**
   * Where the peak is known, the limit goes 30–50% above it (the OOMKilled field guide: "measure
   * peak memory over a representative day, set the limit 30–50% above it"). `preferred` is where inside that band a value is
   * sought first: enough headroom for a busier day without reserving half again as much.
   */
  peakBand: { low: 1.3, preferred: 1.4, high: 1.5 },
  /** Finer steps tried, in order, when no readable quantity lies inside the band. */
  finerStepsMiB: [64, 16],
  /** JVM: a heap (-Xmx/MaxHeapSize) above this share of the limit leaves too little for the rest. */
  jvmHeapMaxShare: 0.8,
  /** JVM: the heap a fix sets, as a share of the limit (metaspace, threads, direct buffers take the rest). */
  jvmHeapShare: 0.7,
  /** JVM: MaxRAMPercentage above this is a heap sized past what the container can hold. */
  jvmRamPercentageMax: 80,
  /** JVM: what MaxRAMPercentage / MaxRAMFraction are set to by a fix. */
  jvmRamPercentageFix: '75.0',
  jvmRamFractionFix: '2',
  /** Node: --max-old-space-size above this share of the limit is past it once new space and buffers count. */
  nodeOldSpaceMaxShare: 0.8,
  nodeOldSpaceShare: 0.75,
  /** Go: GOMEMLIMIT is a soft limit the GC aims under; above this share of the limit it cannot help. */
  goMemLimitMaxShare: 0.97,
  goMemLimitShare: 0.9,
  /** Steps the runtime values are rounded down to, in MiB. */
  heapStepMiB: 64,
  goMemLimitStepMiB: 16,
} as const;
