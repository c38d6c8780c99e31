// Appends records to a file with group commit: records appended during one tick
// are written (and, with fsync, made durable) together, and everyone who appended
// to that batch is told once it is done. Buffered bytes are reported so the caller
// can stop reading from peers when the disk is slower than the network. With a
// rotation policy the file is rotated between records, within a batch if need be: a
// batch is done once each of its records is in one file or the other.
import { type FileHandle, open } from "node:fs/promises";
import { EchoplexError } from "../../errors.js";
import { type Rotation, shiftFiles, syncDirectory } from "./rotation.js";

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
  /** Rotate the file by size or age; none: one file that grows. */
  rotation?: Rotation;
}

/** After a failed rotation the file keeps growing; the next try waits this long. */
const ROTATE_RETRY_MS = 1000;

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
  /** Called after a rotation: the file's old content is now `to`. */
  onRotated: ((to: string, bytes: number) => void) | undefined;
  /** Called when a rotation fails (records keep going to the current file). */
  onRotateError: ((err: EchoplexError) => void) | undefined;
  recordsWritten = 0;
  bytesWritten = 0;
  rotations = 0;
  /** Bytes in the current file, and when it was opened: what the rotation policy reads. */
  private size = 0;
  private openedAt = 0;
  private rotateRetryAt = 0;

  constructor(
    readonly path: string,
    private readonly options: RecorderOptions,
  ) {}

  async open(): Promise<void> {
    try {
      this.file = await open(this.path, "a");
      this.size = (await this.file.stat()).size;
      this.openedAt = Date.now();
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
    if (this.file === undefined) throw new EchoplexError("ERR_OUTPUT_FILE", `${this.path} is not open`);
    const parts = batch.parts;
    // One write per batch, or per file when the batch straddles a rotation: the records
    // going to one file are copied once into one buffer.
    for (let from = 0; from < parts.length; ) {
      if (this.rotationDue(parts[from]!.length)) await this.rotate();
      let to = from + 1;
      let bytes = parts[from]!.length;
      while (to < parts.length && !this.overSize(bytes + parts[to]!.length)) bytes += parts[to++]!.length;
      await this.write(bytes, parts.slice(from, to));
      from = to;
    }
    if (this.options.fsync) await this.file.datasync();
  }

  private async write(bytes: number, parts: Buffer[]): Promise<void> {
    const file = this.file!;
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes);
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await file.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    this.size += data.length;
  }

  /** True when the current file, not empty, must be rotated before a record of `next` bytes. */
  private rotationDue(next: number): boolean {
    const rotation = this.options.rotation;
    if (rotation === undefined || this.size === 0) return false;
    const now = Date.now();
    if (now < this.rotateRetryAt) return false;
    if (rotation.everyMs !== undefined && now - this.openedAt >= rotation.everyMs) return true;
    return this.overSize(next);
  }

  /** True when `bytes` more would take the current file past --rotate SIZE. */
  private overSize(bytes: number): boolean {
    const max = this.options.rotation?.maxBytes;
    return max !== undefined && this.size + bytes > max;
  }

  /** FILE → FILE.1 (…), then a new FILE. The old descriptor writes nothing after the rename. */
  private async rotate(): Promise<void> {
    const old = this.file!;
    const bytes = this.size;
    try {
      if (this.options.fsync) await old.datasync();
      await shiftFiles(this.path, this.options.rotation!.keep);
      this.file = await open(this.path, "a");
    } catch (err) {
      // Records are never refused for want of a rotation: they go on into the current file
      // (FILE, or FILE.1 if only the new file could not be made), and rotation is tried again later.
      this.rotateRetryAt = Date.now() + ROTATE_RETRY_MS;
      const message = `cannot rotate ${this.path}: ${(err as Error).message}`;
      this.onRotateError?.(new EchoplexError("ERR_OUTPUT_FILE", message, { cause: err }));
      return;
    }
    await old.close();
    if (this.options.fsync) await syncDirectory(this.path);
    this.size = 0;
    this.openedAt = Date.now();
    this.rotations++;
    this.onRotated?.(`${this.path}.1`, bytes);
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
