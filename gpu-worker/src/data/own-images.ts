/**
 * `--images FILE`: a user's own scoring images, for models whose domain is not CIFAR-10 or MNIST.
 * Either a `.npy` of float32 [N, C, H, W], already normalised, or a folder of PNG/JPEG files (read
 * in name order, all of one size) scaled to [0, 1] and normalised with `--mean` and `--std`, whose
 * length (1 or 3) sets the channel count (1: the ITU-R 601 luma of the pixels).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { DasError, LUMA_601, sha256Hex, type ImageShape } from "@das/core";
import jpeg from "jpeg-js";
import { PNG } from "pngjs";

export interface OwnImages {
  readonly images: Float32Array;
  readonly shape: ImageShape;
  readonly count: number;
  /** SHA-256 of the float32 values of the first `batchSize` images (the scoring batch). */
  readonly sha256: string;
}

/** Largest image file read from a folder, and largest .npy. */
const MAX_IMAGE_FILE_BYTES = 32 * 1024 * 1024;
const MAX_NPY_BYTES = 1 << 30;

const bad = (message: string) => new DasError("INVALID_ARGUMENT", message, { field: "images" });

function parseNpy(buf: Buffer, file: string): { data: Float32Array; dims: number[] } {
  if (buf.length < 10 || buf.toString("latin1", 0, 6) !== "\x93NUMPY") throw bad(`${file} is not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 + headerLen : 12 + headerLen;
  const header = buf.toString("latin1", major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr !== "<f4") throw bad(`${file}: the array must be little-endian float32 ('<f4'), found '${descr}'`);
  if (fortran !== "False") throw bad(`${file}: the array must be in C order`);
  const dims = (shape ?? "").split(",").map((d) => d.trim()).filter(Boolean).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length - start !== count * 4) throw bad(`${file}: ${buf.length - start} data bytes for shape (${dims.join(", ")})`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(start + i * 4);
  return { data, dims };
}

function numbers(flag: string, raw: string | undefined): number[] {
  if (raw === undefined) throw bad(`a folder of images needs --mean and --std (one value for grayscale, three for RGB)`);
  const v = raw.split(",").map((x) => Number(x.trim()));
  if (!(v.length === 1 || v.length === 3) || v.some((x) => !Number.isFinite(x))) throw bad(`--${flag} must be 1 or 3 comma-separated numbers, got '${raw}'`);
  if (flag === "std" && v.some((x) => x <= 0)) throw bad(`--std values must be positive, got '${raw}'`);
  return v;
}

/** RGBA pixels of a PNG or JPEG file. */
function decode(file: string): { width: number; height: number; rgba: Uint8Array } {
  const bytes = readFileSync(file);
  try {
    if (extname(file).toLowerCase() === ".png") {
      const png = PNG.sync.read(bytes);
      return { width: png.width, height: png.height, rgba: png.data };
    }
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    throw bad(`${file}: not a readable ${extname(file).slice(1).toUpperCase()} image (${(e as Error).message})`);
  }
}

function readFolder(dir: string, batchSize: number, meanRaw: string | undefined, stdRaw: string | undefined): { data: Float32Array; shape: ImageShape; count: number } {
  const mean = numbers("mean", meanRaw);
  const std = numbers("std", stdRaw);
  if (mean.length !== std.length) throw bad(`--mean has ${mean.length} values and --std ${std.length}`);
  const channels = mean.length;
  const files = readdirSync(dir)
    .filter((f) => /\.(png|jpe?g)$/i.test(f))
    .sort()
    .slice(0, batchSize);
  if (files.length < batchSize) throw bad(`${dir} holds ${files.length} PNG/JPEG images; the scoring batch needs ${batchSize}`);
  let shape: ImageShape | undefined;
  let data = new Float32Array(0);
  files.forEach((f, n) => {
    const path = join(dir, f);
    if (statSync(path).size > MAX_IMAGE_FILE_BYTES) throw bad(`${path} is larger than ${MAX_IMAGE_FILE_BYTES} bytes`);
    const img = decode(path);
    if (!shape) {
      shape = { channels, height: img.height, width: img.width };
      data = new Float32Array(batchSize * channels * img.height * img.width);
    } else if (img.height !== shape.height || img.width !== shape.width) {
      throw bad(`${path} is ${img.width}x${img.height}; the first image is ${shape.width}x${shape.height}: give images of one size`);
    }
    const plane = img.height * img.width;
    for (let i = 0; i < plane; i++) {
      const [r, g, b] = [img.rgba[i * 4] / 255, img.rgba[i * 4 + 1] / 255, img.rgba[i * 4 + 2] / 255];
      if (channels === 1) data[n * plane + i] = (LUMA_601[0] * r + LUMA_601[1] * g + LUMA_601[2] * b - mean[0]) / std[0];
      else [r, g, b].forEach((v, c) => (data[(n * 3 + c) * plane + i] = (v - mean[c]) / std[c]));
    }
  });
  return { data, shape: shape!, count: files.length };
}

/** The first `batchSize` images of FILE (a .npy or a folder), normalised, with their checksum. */
export async function loadOwnImages(path: string, batchSize: number, o: { mean?: string; std?: string }): Promise<OwnImages> {
  let stat;
  try {
    stat = statSync(path);
  } catch (e) {
    throw bad(`cannot read --images ${path}: ${(e as Error).message}`);
  }
  let data: Float32Array;
  let shape: ImageShape;
  let count: number;
  if (stat.isDirectory()) {
    ({ data, shape, count } = readFolder(path, batchSize, o.mean, o.std));
  } else {
    if (o.mean !== undefined || o.std !== undefined) throw bad("a .npy holds images already normalised: --mean and --std apply to a folder of images only");
    if (stat.size > MAX_NPY_BYTES) throw bad(`${path} is larger than ${MAX_NPY_BYTES} bytes`);
    const npy = parseNpy(readFileSync(path), path);
    if (npy.dims.length !== 4 || !(npy.dims[1] === 1 || npy.dims[1] === 3)) throw bad(`${path}: expected float32 [N, C, H, W] with C 1 or 3, found shape (${npy.dims.join(", ")})`);
    [count] = npy.dims;
    shape = { channels: npy.dims[1], height: npy.dims[2], width: npy.dims[3] };
    if (count < batchSize) throw bad(`${path} holds ${count} images; the scoring batch needs ${batchSize}`);
    data = npy.data;
  }
  const batch = data.subarray(0, batchSize * shape.channels * shape.height * shape.width);
  return { images: batch, shape, count, sha256: await sha256Hex(new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength)) };
}
