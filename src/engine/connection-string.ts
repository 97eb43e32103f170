/**
 * Connection strings made safe to show: the password (and any `pass`-named parameter) replaced, so
 * credentials never reach a log, an error or `toString()`. Used by the store's config and by replicas.
 */
/** A connection string with its password replaced by `***`. */
export function redactConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password !== '') url.password = '***';
    for (const key of [...url.searchParams.keys()]) {
      if (/pass/i.test(key)) url.searchParams.set(key, '***');
    }
    return url.toString();
  } catch {
    return 'postgres://(unparseable connection string)';
  }
}
