/**
 * DTB items of a job: `{"space": "darts", "spec": GENOTYPE, "dtb": {"protocol": NAME}}` trains the
 * genotype under the DTB protocol, exactly as `das dtb build` does, and the record is stored at
 * dtb/{protocolHash}/{archId}.json and indexed as `das dtb push` indexes it. This is how the `paper`
 * protocol runs on GPUs: its training set (cifar10/train-50000.bin) lives in the service's data folder.
 */
import { buildDtbRecord, dtbArchitecture, dtbProtocolHash, dtbRecordKey, getDtbProtocol, type DtbRecord, type ImageSet } from "@das/core";
import { loadTrainingData, type TrainingSplit } from "../data/data-dir.js";
import { nodeRuntime } from "../runtime/node-runtime.js";
import type { EngineInfo } from "./engine-adapter.js";

export interface DtbItemSpec {
  readonly protocol: string;
}

export interface DtbItemBuilderOptions {
  readonly provider: "cuda" | "cpu";
  readonly threads: number;
  readonly info: EngineInfo;
  readonly dataDir: string;
}

export class DtbItemBuilder {
  /** Parsed image sets by split, loaded once (train-50000 is 150 MB). */
  private readonly data = new Map<string, { train: ImageSet; test: ImageSet }>();

  constructor(private readonly o: DtbItemBuilderOptions) {}

  /** The record's key; an unknown protocol or an invalid genotype throws a coded error. */
  async keyFor(genotype: string, spec: DtbItemSpec): Promise<{ archId: string; key: string }> {
    const protocol = getDtbProtocol(spec.protocol);
    const { archId } = await dtbArchitecture(genotype);
    return { archId, key: dtbRecordKey(await dtbProtocolHash(protocol), archId) };
  }

  build(genotype: string, spec: DtbItemSpec): Promise<DtbRecord> {
    const protocol = getDtbProtocol(spec.protocol);
    const { train, test } = this.split(protocol.split);
    const { engineVersion, runtime, executionProvider, device } = this.o.info;
    return buildDtbRecord({
      runtime: { ...nodeRuntime({ provider: this.o.provider, threads: this.o.threads }), device },
      protocol,
      genotype,
      train,
      test,
      info: { engineVersion, runtime, provider: executionProvider, device },
    });
  }

  private split(split: TrainingSplit): { train: ImageSet; test: ImageSet } {
    const id = `${split.train}|${split.test}`;
    let sets = this.data.get(id);
    if (!sets) {
      sets = loadTrainingData(this.o.dataDir, split);
      this.data.set(id, sets);
    }
    return sets;
  }
}
