/** An error in what the user asked for (flag, value, file): exit code 2, message without a stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure at run time that one line explains (a port in use): exit code 1, message without a stack. */
export class RunError extends Error {
  override readonly name = 'RunError';
}
