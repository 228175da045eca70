"""How each pruned token is formed from the input tokens: a sparse ``[N, T*S]`` combination.

Adapters use it to carry per-token side tensors (Qwen3-VL deepstack features, say) through
exactly the same selection and merging as the main features.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class TokenCombination:
    """``out[row[m]] += weight[m] * in[col[m]]``: output ``row`` from global input ``col``.

    ``col`` indexes the flattened input ``frame * S + position``. Entries are coalesced
    (one per ``(row, col)`` pair) and sorted by row, weights are float32.
    """

    row: torch.Tensor
    col: torch.Tensor
    weight: torch.Tensor
    num_outputs: int
    num_inputs: int

    def __post_init__(self) -> None:
        m = self.row.shape[0]
        if self.row.shape != (m,) or self.col.shape != (m,) or self.weight.shape != (m,):
            raise ValueError(
                f"row {tuple(self.row.shape)}, col {tuple(self.col.shape)} and weight "
                f"{tuple(self.weight.shape)} must all be [M]"
            )

    @classmethod
    def from_entries(
        cls,
        row: torch.Tensor,
        col: torch.Tensor,
        weight: torch.Tensor,
        num_outputs: int,
        num_inputs: int,
    ) -> TokenCombination:
        """Coalesce raw entries (duplicate pairs summed) into the canonical form."""
        sparse = torch.sparse_coo_tensor(
            torch.stack([row.long(), col.long()]),
            weight.to(torch.float32),
            (num_outputs, num_inputs),
            check_invariants=True,
        ).coalesce()
        idx = sparse.indices()
        return cls(idx[0], idx[1], sparse.values(), num_outputs, num_inputs)

    @classmethod
    def selection(cls, global_index: torch.Tensor, num_inputs: int) -> TokenCombination:
        """Output ``n`` is input ``global_index[n]`` unchanged (pure token selection)."""
        n = int(global_index.shape[0])
        row = torch.arange(n, device=global_index.device)
        weight = torch.ones(n, dtype=torch.float32, device=global_index.device)
        return cls.from_entries(row, global_index.long(), weight, n, num_inputs)

    @classmethod
    def from_blocks(
        cls,
        weight: torch.Tensor,
        rows: torch.Tensor,
        cols: torch.Tensor,
        num_outputs: int,
        num_inputs: int,
    ) -> TokenCombination:
        """Entries of dense per-block weights ``[B, R, C]`` (zero weights dropped).

        Output ``rows[b, r]`` takes ``weight[b, r, c]`` times input ``cols[b, c]``: the form a
        one-hot merge produces (a block per frame, window or segment).
        """
        b, r, c = torch.nonzero(weight, as_tuple=True)
        return cls.from_entries(rows[b, r], cols[b, c], weight[b, r, c], num_outputs, num_inputs)

    @classmethod
    def concat(cls, parts: list[TokenCombination], num_inputs: int) -> TokenCombination:
        """Stack the outputs of ``parts`` in order (rows of later parts are offset)."""
        rows, cols, weights, offset = [], [], [], 0
        for part in parts:
            rows.append(part.row + offset)
            cols.append(part.col)
            weights.append(part.weight)
            offset += part.num_outputs
        if not parts:
            empty = torch.zeros(0, dtype=torch.long)
            return cls(empty, empty, torch.zeros(0), 0, num_inputs)
        return cls(torch.cat(rows), torch.cat(cols), torch.cat(weights), offset, num_inputs)

    def then(self, later: TokenCombination) -> TokenCombination:
        """The combination of ``later`` applied to this one's outputs (``W_later @ W_self``)."""
        if later.num_inputs != self.num_outputs:
            raise ValueError(
                f"cannot chain: later step reads {later.num_inputs} tokens, this one makes "
                f"{self.num_outputs}"
            )
        counts = torch.bincount(self.row, minlength=self.num_outputs)
        starts = torch.cumsum(counts, 0) - counts
        per_entry = counts[later.col]
        rows = later.row.repeat_interleave(per_entry)
        w_later = later.weight.repeat_interleave(per_entry)
        first = starts[later.col].repeat_interleave(per_entry)
        within = torch.arange(int(per_entry.sum()), device=self.row.device) - torch.cumsum(
            per_entry, 0
        ).sub(per_entry).repeat_interleave(per_entry)
        src = first + within
        return TokenCombination.from_entries(
            rows, self.col[src], w_later * self.weight[src], later.num_outputs, self.num_inputs
        )

    def reorder(self, order: torch.Tensor) -> TokenCombination:
        """Output ``k`` becomes this one's output ``order[k]`` (a permutation or a selection)."""
        return self.then(TokenCombination.selection(order, self.num_outputs))

    def shifted(self, col_offset: int, num_inputs: int) -> TokenCombination:
        """The same map reading inputs ``col + col_offset`` of a ``num_inputs``-token video."""
        if col_offset < 0 or col_offset + int(self.num_inputs) > num_inputs:
            raise ValueError(
                f"cannot shift {self.num_inputs} inputs by {col_offset} into {num_inputs}"
            )
        return TokenCombination(
            self.row, self.col + col_offset, self.weight, self.num_outputs, num_inputs
        )

    def to_sparse(self) -> torch.Tensor:
        """The ``[N, T*S]`` sparse COO matrix."""
        return torch.sparse_coo_tensor(
            torch.stack([self.row, self.col]),
            self.weight,
            (self.num_outputs, self.num_inputs),
            check_invariants=True,
        )

    def to_dense(self) -> torch.Tensor:
        """The ``[N, T*S]`` dense float32 matrix (entries are unique, so no accumulation)."""
        dense = torch.zeros(
            self.num_outputs, self.num_inputs, dtype=torch.float32, device=self.row.device
        )
        dense[self.row, self.col] = self.weight
        return dense

    def apply(self, side: torch.Tensor) -> torch.Tensor:
        """Map a per-token tensor ``[T, S, D']`` (or ``[T*S, D']``) to ``[N, D']``.

        Computed as a dense matmul in float32 (deterministic on every device), returned in
        ``side``'s dtype.
        """
        flat = side.reshape(-1, side.shape[-1]) if side.dim() == 3 else side
        if flat.dim() != 2 or flat.shape[0] != self.num_inputs:
            raise ValueError(
                f"side tensor of shape {tuple(side.shape)} does not have {self.num_inputs} "
                "tokens ([T, S, D'] or [T*S, D'])"
            )
        dense = self.to_dense().to(flat.device)
        return (dense @ flat.to(torch.float32)).to(side.dtype)
