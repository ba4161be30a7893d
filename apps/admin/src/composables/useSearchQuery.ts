import { ref } from 'vue';
import { debounce } from '../debounce.ts';

/**
 * The text of a search box that filters a list: applied (trimmed) once typing pauses, or at once on submit.
 * Bind `q` with v-model, call `search(q)` on input and `submit()` on the form's submit.
 */
export function useSearchQuery(initial: string, apply: (q: string) => unknown) {
  const q = ref(initial);
  const search = debounce((value: string) => void apply(value.trim()));
  function submit() {
    return apply(q.value.trim());
  }
  return { q, search, submit };
}
