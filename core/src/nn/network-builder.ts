import { GraphBuilder, numel, type Value } from "../onnx/graph-builder.js";
import { attr } from "../onnx/model.js";
import { Rng } from "../util/rng.js";
import { DasError } from "../errors.js";

/**
 * One ReLU input that the reference network hooks. Its sign pattern per sample
 * is the binary code of DESIGN.md. `multiplicity` counts the ReLU modules of
 * the reference network that read this same tensor (each is its own hook in
 * NASWOT), so its contribution is computed once and weighted.
 */
export interface ActivationTap {
  readonly tensor: Value;
  multiplicity: number;
  /** Units per sample: the product of the non-batch dimensions. */
  readonly units: number;
}

export interface ConvOptions {
  readonly outChannels: number;
  readonly kernel: number;
  readonly stride?: number;
  readonly padding?: number;
  readonly dilation?: number;
  readonly groups?: number;
  readonly bias?: boolean;
}

export interface PoolOptions {
  readonly kernel: number;
  readonly stride?: number;
  readonly padding?: number;
}

/** PyTorch's BatchNorm2d default epsilon. */
export const BN_EPSILON = 1e-5;
/** ONNX momentum weighs the old running value: 0.9 is PyTorch's momentum 0.1. */
export const BN_MOMENTUM = 0.9;

/**
 * Network layers over a GraphBuilder with PyTorch-default initialisation,
 * parameter and multiply-accumulate counting, ReLU taps, and folding of
 * tensors known to be zero (valid at initialisation, where BN's beta is 0).
 * Parameters and MACs are counted for every module, folded or not, so they
 * describe the architecture rather than the graph that happens to run.
 */
export class NetworkBuilder {
  readonly graph: GraphBuilder;
  readonly rng: Rng;
  readonly taps: ActivationTap[] = [];
  private readonly tapByTensor = new Map<string, ActivationTap>();
  private readonly reluByTensor = new Map<string, Value>();
  params = 0;
  /**
   * FLOPs per sample as NAS-Bench-201's counter (AutoDL get_model_infos)
   * defines them: conv and linear multiply-accumulates plus one per bias
   * output; BN, ReLU, pooling and additions are not counted.
   */
  macs = 0;

  /**
   * @param foldZeros fold tensors known to be zero (default). Off, zeros are
   *   real tensors computed like any other, as the reference network does:
   *   the check that folding changes nothing, and what training graphs need
   *   (BN's beta moves away from 0 there).
   */
  constructor(
    readonly batchSize: number,
    seed: number,
    name = "network",
    readonly foldZeros = true,
    /** One Relu node per distinct input (default); off, one per ReLU module, as an export should be. */
    readonly shareRelus = true,
    /** "batch": BatchNorm normalises with batch statistics (scoring, training); "running": with its running statistics (evaluation). */
    readonly batchNormStats: "batch" | "running" = "batch",
  ) {
    this.graph = new GraphBuilder(name);
    this.rng = new Rng(seed);
  }

  private images?: Value;
  private batchDim?: Value;

  input(shape: readonly number[], name = "images"): Value {
    this.images = this.graph.input(name, [this.batchSize, ...shape]);
    return this.images;
  }

  zeros(shape: readonly number[]): Value {
    const folded: Value = { name: "<zero>", shape: [...shape], dtype: "float32", zero: true };
    return this.foldZeros ? folded : this.materialize(folded);
  }

  /** Conv2d with kaiming_uniform(a=sqrt(5)) weights: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch. */
  conv2d(x: Value, o: ConvOptions): Value {
    const [n, cIn, h, w] = x.shape;
    const { outChannels, kernel: k, stride = 1, padding = 0, dilation = 1, groups = 1, bias = false } = o;
    const fanIn = (cIn / groups) * k * k;
    const bound = 1 / Math.sqrt(fanIn);
    const weight = this.rng.fillUniform(new Float32Array(outChannels * fanIn), bound);
    const b = bias ? this.rng.fillUniform(new Float32Array(outChannels), bound) : undefined;
    const outH = Math.floor((h + 2 * padding - dilation * (k - 1) - 1) / stride) + 1;
    const outW = Math.floor((w + 2 * padding - dilation * (k - 1) - 1) / stride) + 1;
    const shape = [n, outChannels, outH, outW];
    this.params += weight.length + (b?.length ?? 0);
    this.macs += outH * outW * outChannels * (fanIn + (bias ? 1 : 0));
    if (x.zero && !b) return this.zeros(shape);
    const wv = this.graph.initializer("conv_w", [outChannels, cIn / groups, k, k], weight, "float32", true);
    const inputs: Value[] = [x.zero ? this.materialize(x) : x, wv];
    if (b) inputs.push(this.graph.initializer("conv_b", [outChannels], b, "float32", true));
    return this.graph.op("Conv", inputs, shape, {
      kernel_shape: attr.ints([k, k]),
      strides: attr.ints([stride, stride]),
      pads: attr.ints([padding, padding, padding, padding]),
      dilations: attr.ints([dilation, dilation]),
      group: attr.int(groups),
    });
  }

  /**
   * BatchNorm2d in train mode (batch statistics), gamma 1, beta 0. With
   * `affine` false gamma and beta are constants, not parameters (identical
   * forward pass at initialisation).
   */
  batchNorm(x: Value, affine = true): Value {
    const c = x.shape[1];
    if (affine) this.params += 2 * c;
    if (x.zero) return x; // (0 - 0) / sqrt(0 + eps) * 1 + 0
    const g = this.graph;
    const inputs = [
      x,
      g.initializer("bn_gamma", [c], new Float32Array(c).fill(1), "float32", affine),
      g.initializer("bn_beta", [c], new Float32Array(c), "float32", affine),
      g.initializer("bn_mean", [c], new Float32Array(c)),
      g.initializer("bn_var", [c], new Float32Array(c).fill(1)),
    ];
    if (this.batchNormStats === "running") return g.op("BatchNormalization", inputs, x.shape, { epsilon: attr.float(BN_EPSILON) });
    // Training mode requires the running-statistics outputs too; Y is the activation, the others
    // are the updated running statistics (used by training-step graphs).
    const [y] = g.opMulti("BatchNormalization", inputs, [{ shape: x.shape }, { shape: [c] }, { shape: [c] }], {
      epsilon: attr.float(BN_EPSILON),
      momentum: attr.float(BN_MOMENTUM),
      training_mode: attr.int(1),
    });
    return y;
  }

  /**
   * ReLU, tapped. A second ReLU of the same tensor reuses the first one's
   * output (identical values) and raises the tap's multiplicity instead.
   */
  relu(x: Value): Value {
    const tap = this.tapByTensor.get(x.name);
    if (tap && !x.zero && this.shareRelus) {
      tap.multiplicity++;
      return this.reluByTensor.get(x.name)!;
    }
    if (tap && !x.zero) tap.multiplicity++;
    else this.taps.push(this.newTap(x));
    if (x.zero) return x;
    const y = this.graph.op("Relu", [x], x.shape);
    this.reluByTensor.set(x.name, y);
    return y;
  }

  private newTap(x: Value): ActivationTap {
    const tap = { tensor: x, multiplicity: 1, units: numel(x.shape.slice(1)) };
    if (!x.zero) this.tapByTensor.set(x.name, tap);
    return tap;
  }

  /** Sum of tensors of equal shape; zeros drop out. */
  sum(xs: readonly Value[]): Value {
    const live = xs.filter((x) => !x.zero);
    if (live.length === 0) return this.zeros(xs[0].shape);
    if (live.length === 1) return live[0];
    return this.graph.op("Sum", live, live[0].shape);
  }

  /** AvgPool2d; padding is excluded from the count (count_include_pad=False). */
  avgPool(x: Value, o: PoolOptions): Value {
    const { kernel: k, stride = k, padding = 0 } = o;
    const [n, c, h, w] = x.shape;
    const outH = Math.floor((h + 2 * padding - k) / stride) + 1;
    const outW = Math.floor((w + 2 * padding - k) / stride) + 1;
    const shape = [n, c, outH, outW];
    if (x.zero) return this.zeros(shape);
    return this.graph.op("AveragePool", [x], shape, {
      kernel_shape: attr.ints([k, k]),
      strides: attr.ints([stride, stride]),
      pads: attr.ints([padding, padding, padding, padding]),
      count_include_pad: attr.int(0),
    });
  }

  /** Global average pool and flatten to [N, C]. */
  globalAvgPoolFlat(x: Value): Value {
    const [n, c] = x.shape;
    if (x.zero) return this.zeros([n, c]);
    const pooled = this.graph.op("GlobalAveragePool", [x], [n, c, 1, 1]);
    return this.graph.op("Flatten", [pooled], [n, c], { axis: attr.int(1) });
  }

  /** nn.Linear: weight and bias U(-1/sqrt(in), 1/sqrt(in)). */
  linear(x: Value, outFeatures: number): Value {
    const [n, inFeatures] = x.shape;
    const bound = 1 / Math.sqrt(inFeatures);
    const weight = this.rng.fillUniform(new Float32Array(outFeatures * inFeatures), bound);
    const bias = this.rng.fillUniform(new Float32Array(outFeatures), bound);
    this.params += weight.length + bias.length;
    this.macs += outFeatures * (inFeatures + 1);
    const g = this.graph;
    return g.op(
      "Gemm",
      [x.zero ? this.materialize(x) : x, g.initializer("fc_w", [outFeatures, inFeatures], weight, "float32", true), g.initializer("fc_b", [outFeatures], bias, "float32", true)],
      [n, outFeatures],
      { transB: attr.int(1) },
    );
  }

  /**
   * A zero tensor made real: ConstantOfShape over [batch of the input, ...],
   * so it follows the batch size of an exported graph like x.mul(0) would.
   */
  materialize(x: Value): Value {
    const g = this.graph;
    if (!this.images) throw new DasError("INTERNAL", "materialize before input()");
    this.batchDim ??= g.op("Slice", [g.op("Shape", [this.images], [4], undefined, "int64"), g.int64s("starts", [0]), g.int64s("ends", [1])], [1], undefined, "int64");
    const dims = g.op("Concat", [this.batchDim, g.int64s("dims", x.shape.slice(1))], [x.shape.length], { axis: attr.int(0) }, "int64");
    return g.op("ConstantOfShape", [dims], x.shape);
  }
}
