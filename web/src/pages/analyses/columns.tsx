// Which columns the analysis list shows: chosen per user and remembered in this browser.
import { type ReactNode, useCallback, useState } from "react";
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

const storageKey = (owner: string) => `cqa.columns.${owner}`;

/** The chosen column keys of one user (account + user id), saved on every change. */
export function useColumnChoice(owner: string, defaults: string[]): [string[], (keys: string[]) => void] {
  const [chosen, setChosen] = useState<string[]>(() => {
    try {
      const saved = window.localStorage.getItem(storageKey(owner));
      const parsed: unknown = saved ? JSON.parse(saved) : null;
      return Array.isArray(parsed) ? parsed.filter((k): k is string => typeof k === "string") : defaults;
    } catch {
      return defaults;
    }
  });
  const save = useCallback(
    (keys: string[]) => {
      setChosen(keys);
      try {
        window.localStorage.setItem(storageKey(owner), JSON.stringify(keys));
      } catch {
        // Storage full or disabled: the choice lasts for this visit.
      }
    },
    [owner],
  );
  return [chosen, save];
}

export function ColumnChooser({
  columns,
  chosen,
  onChange,
}: {
  columns: ColumnDef[];
  chosen: string[];
  onChange(keys: string[]): void;
}) {
  return (
    <details className="menu">
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
                  onChange(e.target.checked ? [...chosen, c.key] : chosen.filter((k) => k !== c.key))
                }
              />
              {c.label}
            </label>
          ))}
      </fieldset>
    </details>
  );
}
