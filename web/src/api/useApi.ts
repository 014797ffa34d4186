import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api, type RequestOptions } from "./client.ts";

export interface Loaded<T> {
  data: T | null;
  error: ApiError | null;
  loading: boolean;
  /** Loads again (after a change), keeping the current data on screen meanwhile. */
  reload(): void;
}

/**
 * Loads `path` (GET, or POST for list queries) whenever the key changes; an answer that arrives
 * after a newer request was made is dropped, so fast filter changes never show stale rows.
 */
export function useApi<T>(
  method: "GET" | "POST",
  path: string | null,
  options: Omit<RequestOptions, "signal"> = {},
): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(path !== null);
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify([method, path, options.body ?? null, options.query ?? null]);
  const optionsRef = useRef(options);
  optionsRef.current = options;

  // biome-ignore lint/correctness/useExhaustiveDependencies: the key stands for method, path and options
  useEffect(() => {
    if (path === null) {
      setLoading(false);
      return;
    }
    const controller = new AbortController();
    setLoading(true);
    api<T>(method, path, { ...optionsRef.current, signal: controller.signal })
      .then((answer) => {
        setData(answer);
        setError(null);
      })
      .catch((caught: unknown) => {
        if ((caught as Error).name === "AbortError") return;
        setError(caught instanceof ApiError ? caught : new ApiError(0, "CLIENT", String(caught), null, null));
      })
      .finally(() => {
        if (!controller.signal.aborted) setLoading(false);
      });
    return () => controller.abort();
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload };
}

/** Runs a change (POST/PUT/PATCH/DELETE) and keeps its pending state and error for the form. */
export function useAction<A extends unknown[], T>(
  run: (...args: A) => Promise<T>,
): { run: (...args: A) => Promise<T | undefined>; pending: boolean; error: ApiError | null; reset(): void } {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const runRef = useRef(run);
  runRef.current = run;
  const wrapped = useCallback(async (...args: A) => {
    setPending(true);
    setError(null);
    try {
      return await runRef.current(...args);
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, "CLIENT", String(caught), null, null));
      return undefined;
    } finally {
      setPending(false);
    }
  }, []);
  const reset = useCallback(() => setError(null), []);
  return { run: wrapped, pending, error, reset };
}
