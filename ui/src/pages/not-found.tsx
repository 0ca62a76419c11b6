import { Empty, PageHeader } from '../components/ui.tsx';

export default function NotFound() {
  return (
    <>
      <PageHeader title="Not found" />
      <Empty title="There is no page at this address.">Go back to the <a href="/ui">overview</a>.</Empty>
    </>
  );
}
