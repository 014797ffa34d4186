// A small history router: app paths ("/analyses/…") are the same in the full app and in embedded
// mode, where every URL is prefixed with /embed and the outer chrome is left out.
import {
  type AnchorHTMLAttributes,
  createContext,
  type MouseEvent,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from "react";

const embedPrefix = "/embed";

export interface Location {
  /** The path inside the app, without the /embed prefix. */
  path: string;
  search: URLSearchParams;
  embedded: boolean;
}

interface RouterValue extends Location {
  navigate(to: string, options?: { replace?: boolean }): void;
  href(to: string): string;
}

function readLocation(): Location {
  const { pathname, search } = window.location;
  const embedded = pathname === embedPrefix || pathname.startsWith(`${embedPrefix}/`);
  const path = embedded ? pathname.slice(embedPrefix.length) || "/" : pathname;
  return { path, search: new URLSearchParams(search), embedded };
}

const RouterContext = createContext<RouterValue | null>(null);

export function RouterProvider({ children }: { children: ReactNode }) {
  const [location, setLocation] = useState(readLocation);
  useEffect(() => {
    const onPop = () => setLocation(readLocation());
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);
  const href = useCallback(
    (to: string) => (location.embedded && to.startsWith("/") ? `${embedPrefix}${to}` : to),
    [location.embedded],
  );
  const navigate = useCallback(
    (to: string, options: { replace?: boolean } = {}) => {
      const target = href(to);
      if (options.replace) window.history.replaceState(null, "", target);
      else window.history.pushState(null, "", target);
      setLocation(readLocation());
      if (!options.replace) window.scrollTo(0, 0);
    },
    [href],
  );
  const value = useMemo(() => ({ ...location, navigate, href }), [location, navigate, href]);
  return <RouterContext.Provider value={value}>{children}</RouterContext.Provider>;
}

export function useRouter(): RouterValue {
  const value = useContext(RouterContext);
  if (!value) throw new Error("useRouter outside RouterProvider");
  return value;
}

/** Matches `/analyses/:id` against a path; answers the parameters or null. */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const h = have[i]!;
    if (w.startsWith(":")) params[w.slice(1)] = decodeURIComponent(h);
    else if (w !== h) return null;
  }
  return params;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href"> & { to: string };

/** An anchor that navigates inside the app (and still opens in a new tab with Ctrl/⌘-click). */
export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const router = useRouter();
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
      return;
    event.preventDefault();
    router.navigate(to);
  };
  return (
    <a href={router.href(to)} onClick={handle} {...rest}>
      {children}
    </a>
  );
}

/** Query-string helpers for pages that keep their view in the URL. */
export function withQuery(path: string, values: Record<string, string | number | null | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}
