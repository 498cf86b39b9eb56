/** Where the service keeps everything: S3 in production, memory in unit tests. Keys are S3 keys. */
export interface BlobStore {
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, body: Uint8Array | string, contentType?: string): Promise<void>;
  head(key: string): Promise<boolean>;
  /** Every key under a prefix, in lexical order. */
  list(prefix: string): Promise<string[]>;
}

export class MemoryBlobStore implements BlobStore {
  readonly objects = new Map<string, Uint8Array>();
  readonly puts: string[] = [];

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key);
  }
  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.puts.push(key);
    this.objects.set(key, typeof body === "string" ? new TextEncoder().encode(body) : body);
  }
  async head(key: string): Promise<boolean> {
    return this.objects.has(key);
  }
  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}

export async function getJson<T>(store: BlobStore, key: string): Promise<T | undefined> {
  const bytes = await store.get(key);
  return bytes === undefined ? undefined : (JSON.parse(new TextDecoder().decode(bytes)) as T);
}

export function putJson(store: BlobStore, key: string, value: unknown): Promise<void> {
  return store.put(key, JSON.stringify(value), "application/json");
}
