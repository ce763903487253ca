/** Exit codes, documented in the README: 0 ok, 1 a check the user asked for failed, 2 bad input. */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_BAD_INPUT = 2;

/** An error caused by the user's input or environment: printed as one line, never as a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_BAD_INPUT,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A known model whose file is absent or fails verification; callers may skip it instead of stopping. */
export class ModelUnavailableError extends UserError {
  constructor(
    message: string,
    readonly reason: 'missing' | 'corrupt',
    /** The manifest id the user's reference resolved to. */
    readonly model: string,
  ) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}
