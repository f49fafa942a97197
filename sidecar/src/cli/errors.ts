/** An error in what the user asked for (flag, value, file): exit code 2, message without a stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
