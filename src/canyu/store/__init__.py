"""Direct sales: catalogue, flash sales that never oversell, F-codes and referrals."""
