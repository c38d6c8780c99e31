// Appends records to a file with group commit: records appended during one tick
// are written (and, with fsync, made durable) together, and everyone who appended
// to that batch is told once it is done. Buffered bytes are reported so the caller
// can stop reading from peers when the disk is slower than the network.
import { type FileHandle, open } from "node:fs/promises";
import { EchoplexError } from "../../errors.js";

/** A group of records written together; `done` settles when they are in the file. */
export interface Batch {
  readonly parts: Buffer[];
  bytes: number;
  readonly done: Promise<void>;
}

interface OpenBatch extends Batch {
  resolve(): void;
  reject(err: unknown): void;
}

export interface RecorderOptions {
  /** Make each batch durable (fdatasync) before it counts as written. */
  fsync: boolean;
}

function newBatch(): OpenBatch {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers that do not wait must not cause unhandled rejections; errors reach them through `done`.
  done.catch(() => {});
  return { parts: [], bytes: 0, done, resolve, reject };
}

export class FileRecorder {
  private file: FileHandle | undefined;
  private current: OpenBatch = newBatch();
  /** Bytes appended and not yet written (current batch plus the one being written). */
  private buffered = 0;
  private writing: Promise<void> | undefined;
  private scheduled = false;
  private closed = false;
  /** Called after each batch is written (to resume peers that were held). */
  onWritten: (() => void) | undefined;
  /** Called when a batch cannot be written. */
  onError: ((err: EchoplexError) => void) | undefined;
  recordsWritten = 0;
  bytesWritten = 0;

  constructor(
    readonly path: string,
    private readonly options: RecorderOptions,
  ) {}

  async open(): Promise<void> {
    try {
      this.file = await open(this.path, "a");
    } catch (err) {
      throw new EchoplexError("ERR_OUTPUT_FILE", `cannot open ${this.path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** Bytes waiting to be written. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Queues one record; returns the batch it joined (its `done` settles when written). */
  append(record: Buffer): Batch {
    const batch = this.current;
    batch.parts.push(record);
    batch.bytes += record.length;
    this.buffered += record.length;
    if (!this.scheduled && this.writing === undefined) {
      this.scheduled = true;
      setImmediate(this.startWrite);
    }
    return batch;
  }

  private readonly startWrite = (): void => {
    this.scheduled = false;
    if (this.writing === undefined && this.current.parts.length > 0) this.writing = this.writeLoop();
  };

  private async writeLoop(): Promise<void> {
    while (this.current.parts.length > 0) {
      const batch = this.current;
      this.current = newBatch();
      try {
        await this.writeBatch(batch);
        this.recordsWritten += batch.parts.length;
        this.bytesWritten += batch.bytes;
        batch.resolve();
      } catch (err) {
        const failure = EchoplexError.is(err)
          ? err
          : new EchoplexError("ERR_OUTPUT_FILE", `cannot write ${this.path}: ${(err as Error).message}`, {
              cause: err,
            });
        this.onError?.(failure);
        batch.reject(failure);
      }
      this.buffered -= batch.bytes;
      this.onWritten?.();
    }
    this.writing = undefined;
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const file = this.file;
    if (file === undefined) throw new EchoplexError("ERR_OUTPUT_FILE", `${this.path} is not open`);
    // One write per batch: the records are copied once into one buffer.
    const data = batch.parts.length === 1 ? batch.parts[0]! : Buffer.concat(batch.parts, batch.bytes);
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await file.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    if (this.options.fsync) await file.datasync();
  }

  /** Resolves when everything appended so far is written. */
  async flush(): Promise<void> {
    while (this.writing !== undefined || this.current.parts.length > 0) {
      if (this.writing === undefined) this.startWrite();
      await this.writing?.catch(() => {});
    }
  }

  /** Writes what is left, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) {
      if (this.options.fsync) await file.sync().catch(() => {});
      await file.close();
    }
  }
}
