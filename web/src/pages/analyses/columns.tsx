// Which columns the analysis list shows: chosen per user and kept by cqa (the user's preference
// `analysis_list_columns`), so the choice follows the user to any browser. This browser keeps a copy
// only to show the last known choice at once, before cqa has answered.
import { type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { ApiError, accountPath, api } from "../../api/client.ts";
import type { AnalysisSummary } from "../../api/types.ts";

export interface ColumnDef {
  key: string;
  label: string;
  /** Always shown (the link to the conversation). */
  fixed?: boolean;
  numeric?: boolean;
  /** The cell as text (also what the CSV export writes). */
  value(row: AnalysisSummary): string;
  render?(row: AnalysisSummary): ReactNode;
}

/** The preference key of the column choice in the API (`/me/preferences/{key}`). */
const preferenceKey = "analysis_list_columns";
const cacheKey = (owner: string) => `cqa.columns.v2.${owner}`;
/** Where choices were kept before cqa kept them: moved to cqa once, then removed. */
const legacyKey = (owner: string) => `cqa.columns.${owner}`;

function readStored(key: string): string[] | null {
  try {
    const saved = window.localStorage.getItem(key);
    const parsed: unknown = saved ? JSON.parse(saved) : null;
    return Array.isArray(parsed) ? parsed.filter((k): k is string => typeof k === "string") : null;
  } catch {
    return null;
  }
}

function writeStored(key: string, keys: string[] | null): void {
  try {
    if (keys === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(keys));
  } catch {
    // Storage full or disabled: only the instant first paint is lost; cqa keeps the choice.
  }
}

interface ChoiceState {
  owner: string;
  keys: string[];
  loaded: boolean;
}

/** What this browser last knew of the owner's choice, until cqa answers. */
function rememberedChoice(owner: string, defaults: readonly string[]): ChoiceState {
  return {
    owner,
    keys: readStored(cacheKey(owner)) ?? readStored(legacyKey(owner)) ?? [...defaults],
    loaded: false,
  };
}

function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, "CLIENT", String(error), null, null);
}

export interface ColumnChoice {
  chosen: string[];
  /** False until cqa answered with the user's saved choice (or that there is none). */
  loaded: boolean;
  choose(keys: string[]): void;
  /** Back to the default columns (forgets the saved choice). */
  reset(): void;
}

/**
 * The chosen column keys of the signed-in user, loaded from and saved to cqa. Saves go one at a
 * time and only the newest waiting one is sent, so quick clicks can never arrive out of order.
 */
export function useColumnChoice(
  accountId: string,
  userId: string,
  defaults: readonly string[],
  onError: (doing: "load" | "save", error: ApiError) => void,
): ColumnChoice {
  const owner = `${accountId}.${userId}`;
  const path = accountPath(accountId, "/me/preferences");
  const [state, setState] = useState(() => rememberedChoice(owner, defaults));
  // Another user signed in on the same page: their own choice, not the previous user's.
  const current = state.owner === owner ? state : rememberedChoice(owner, defaults);
  const touched = useRef(false);
  const defaultsRef = useRef(defaults);
  defaultsRef.current = defaults;
  const onErrorRef = useRef(onError);
  onErrorRef.current = onError;

  // The newest change not yet sent (keys null = reset), and whether a save is on its way.
  const waiting = useRef<{ url: string; keys: string[] | null } | null>(null);
  const sending = useRef(false);
  const send = useCallback(
    async (keys: string[] | null) => {
      waiting.current = { url: `${path}/${preferenceKey}`, keys };
      if (sending.current) return;
      sending.current = true;
      try {
        while (waiting.current) {
          const next = waiting.current;
          waiting.current = null;
          try {
            if (next.keys === null) await api("DELETE", next.url);
            else await api("PUT", next.url, { body: { value: next.keys } });
          } catch (error) {
            onErrorRef.current("save", asApiError(error));
          }
        }
      } finally {
        sending.current = false;
      }
    },
    [path],
  );

  useEffect(() => {
    touched.current = false;
    const controller = new AbortController();
    api<{ preferences: Record<string, unknown> }>("GET", path, { signal: controller.signal })
      .then((answer) => {
        const saved = answer.preferences[preferenceKey];
        const keys = Array.isArray(saved) ? saved.filter((k): k is string => typeof k === "string") : null;
        const legacy = readStored(legacyKey(owner));
        writeStored(legacyKey(owner), null);
        if (touched.current) return; // The user chose while cqa was answering: their choice wins.
        if (keys === null && legacy !== null) {
          // A choice this browser kept before cqa kept choices: it becomes the saved one.
          void send(legacy);
        }
        const shown = keys ?? legacy;
        writeStored(cacheKey(owner), shown);
        setState({ owner, keys: shown ?? [...defaultsRef.current], loaded: true });
      })
      .catch((error: unknown) => {
        if ((error as Error).name === "AbortError") return;
        // The list works on with the last known choice; say why it may not be the newest.
        setState((s) => ({
          ...(s.owner === owner ? s : rememberedChoice(owner, defaultsRef.current)),
          loaded: true,
        }));
        onErrorRef.current("load", asApiError(error));
      });
    return () => controller.abort();
  }, [owner, path, send]);

  const choose = useCallback(
    (keys: string[]) => {
      touched.current = true;
      setState({ owner, keys, loaded: true });
      writeStored(cacheKey(owner), keys);
      void send(keys);
    },
    [owner, send],
  );
  const reset = useCallback(() => {
    touched.current = true;
    setState({ owner, keys: [...defaultsRef.current], loaded: true });
    writeStored(cacheKey(owner), null);
    void send(null);
  }, [owner, send]);

  return { chosen: current.keys, loaded: current.loaded, choose, reset };
}

export function ColumnChooser({ columns, choice }: { columns: ColumnDef[]; choice: ColumnChoice }) {
  const { chosen, choose } = choice;
  return (
    <details className="menu" aria-busy={!choice.loaded}>
      <summary className="btn btn-secondary">Columns</summary>
      <fieldset className="menu-panel">
        <legend>Show columns</legend>
        {columns
          .filter((c) => !c.fixed)
          .map((c) => (
            <label key={c.key} className="menu-check">
              <input
                type="checkbox"
                checked={chosen.includes(c.key)}
                onChange={(e) =>
                  choose(e.target.checked ? [...chosen, c.key] : chosen.filter((k) => k !== c.key))
                }
              />
              {c.label}
            </label>
          ))}
        <button type="button" className="btn btn-secondary btn-small" onClick={choice.reset}>
          Default columns
        </button>
      </fieldset>
    </details>
  );
}
