// A TypeScript custom scorer for the tests (loads where Node can import TypeScript: Node >= 22.6, or with tsx installed).
interface Item {
  id: string;
  answer: string;
}

export const binary = true;

export function score(answer: string | undefined, item: Item): boolean {
  return answer !== undefined && answer.trim().length % 2 === item.answer.trim().length % 2;
}
