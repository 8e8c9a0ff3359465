import type { ChildProcess } from 'node:child_process';

export interface StartOptions {
  /** Keep everything in memory (`--in-memory`). Default true. */
  inMemory?: boolean;
  /** With `inMemory: false`: where durable data lives (`--data-dir`). */
  dataDir?: string;
  /** TCP port; 0 (the default) lets the system pick a free one. */
  port?: number;
  /** Address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** More openddb flags, e.g. `['--log-level', 'warn']`. */
  args?: readonly string[];
  /** How long to wait for the ready line before giving up. Default 30000. */
  timeoutMs?: number;
  /** The executable; default: this platform's package, or OPENDDB_BINARY_PATH. */
  binaryPath?: string;
  /** The server's environment. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The server's working directory (a relative `dataDir` is read from it). */
  cwd?: string;
}

export interface StopOptions {
  /** Milliseconds between SIGTERM and SIGKILL. Default 10000. */
  graceMs?: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export declare class Server {
  private constructor();
  /** `http://127.0.0.1:PORT`: the `endpoint` for an AWS SDK client. */
  readonly endpoint: string;
  readonly host: string;
  readonly port: number;
  readonly pid: number;
  readonly process: ChildProcess;
  /** The server's last lines of output. */
  readonly output: string;
  readonly running: boolean;
  /** SIGTERM, then SIGKILL after the grace period; resolves once it is gone. */
  stop(options?: StopOptions): Promise<Exit>;
}

/**
 * Starts an openddb server and resolves once it accepts requests. It lives
 * no longer than this Node process and does not keep it alive.
 */
export declare function start(options?: StartOptions): Promise<Server>;

/** The openddb executable this package runs. */
export declare function binaryPath(): string;

/** `${process.platform}-${process.arch}`, the suffix of the platform package. */
export declare function platformKey(): string;
