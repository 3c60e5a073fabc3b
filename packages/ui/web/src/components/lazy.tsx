/** Mounts its children only once scrolled near the viewport, so a page of 1,000 charts costs what is seen. */
import { useEffect, useRef, useState, type ReactNode } from 'react';

export function Lazy({ height, children }: { height: number; children: ReactNode }): ReactNode {
  const ref = useRef<HTMLDivElement>(null);
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (el === null || seen) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && setSeen(true), {
      rootMargin: '300px',
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [seen]);
  return (
    <div ref={ref} style={seen ? undefined : { minHeight: height }}>
      {seen ? children : null}
    </div>
  );
}
